import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The compiled service entry (`dist/server/main.js`) for tests that run the real process, built
 * first when it is missing or older than the sources (a fresh clone runs `npm test` unbuilt).
 *
 * @example spawn(process.execPath, [builtServerEntry()], { env })
 */
export function builtServerEntry(): string {
  const entry = join(ROOT, 'dist/server/main.js');
  if (!existsSync(entry) || statSync(entry).mtimeMs < newestSource(join(ROOT, 'src'))) {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')],
      {
        cwd: ROOT,
        stdio: 'inherit',
      },
    );
  }
  return entry;
}
