import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { generatePrivateKeyPem, JWT_ALGORITHMS, thumbprint, type JwtAlgorithm } from '../../index.js';

/**
 * `npm run keys:generate [-- ALGORITHM]`: prints a new signing key (or HMAC secret) as
 * environment lines, ready for `.env` or a secret store. Nothing is written to disk.
 */
function main(argv: string[]): number {
  const algorithm = (argv[0] ?? 'ES256').toUpperCase();
  if (!(JWT_ALGORITHMS as readonly string[]).includes(algorithm)) {
    process.stderr.write(`usage: npm run keys:generate -- [${JWT_ALGORITHMS.join('|')}]\n`);
    return 2;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (algorithm.startsWith('HS')) {
    const bytes = { HS256: 32, HS384: 48, HS512: 64 }[algorithm as 'HS256' | 'HS384' | 'HS512'];
    out(`# ${algorithm} secret (${bytes} random bytes). Every instance needs the same value.`);
    out(`JWT_ALGORITHM=${algorithm}`);
    out(`JWT_SECRET=${randomBytes(bytes).toString('base64url')}`);
    return 0;
  }
  const privatePem = generatePrivateKeyPem(algorithm as JwtAlgorithm);
  const publicKey = createPublicKey(createPrivateKey(privatePem));
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const escape = (pem: string) => `"${pem.trim().replace(/\n/g, '\\n')}"`;
  out(`# ${algorithm} key pair, kid ${thumbprint(publicKey)}.`);
  out('# Rotation: 1) add JWT_PUBLIC_KEY below to JWT_PREVIOUS_PUBLIC_KEYS and deploy (published, unused);');
  out('# 2) after 5 minutes deploy these, keeping the old public key in JWT_PREVIOUS_PUBLIC_KEYS;');
  out('# 3) drop the old key once ACCESS_TOKEN_TTL has passed.');
  out(`JWT_ALGORITHM=${algorithm}`);
  out(`JWT_PRIVATE_KEY=${escape(privatePem)}`);
  out(`JWT_PUBLIC_KEY=${escape(publicPem)}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
