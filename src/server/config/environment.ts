import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Environment } from './app.config.js';

/**
 * Reads the process environment, after loading `.env` from the working directory when there is
 * one (variables already set win). The one place outside tests that touches `process.env`.
 *
 * @example const config = loadConfig(readEnvironment());
 */
export function readEnvironment(): Environment {
  const file = resolve('.env');
  if (existsSync(file)) process.loadEnvFile(file);
  return process.env;
}
