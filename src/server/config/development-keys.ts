import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePrivateKeyPem, type JwtAlgorithm } from '../../index.js';

const HMAC_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/**
 * Outside production, a signing key or secret kept in `DATA_DIR`, made on first start so tokens
 * survive a restart; two processes starting at once on one folder agree on a single key.
 *
 * @example const pem = developmentKey('./data', 'ES256');
 */
export function developmentKey(dataDir: string, algorithm: JwtAlgorithm): string {
  const hmac = algorithm.startsWith('HS');
  const path = join(dataDir, `jwt-${algorithm.toLowerCase()}.${hmac ? 'secret' : 'pem'}`);
  if (existsSync(path)) return readFileSync(path, 'utf8');
  mkdirSync(dataDir, { recursive: true });
  try {
    const made = hmac ? randomBytes(HMAC_BYTES[algorithm]!).toString('base64url') : generatePrivateKeyPem(algorithm);
    writeFileSync(path, made, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(path, 'utf8');
}
