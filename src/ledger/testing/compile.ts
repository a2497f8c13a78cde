import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Compiles the ledger (and what it imports) into `dir/dist` for child processes of tests, so a
 * kill -9 hits real compiled code without depending on a prior `npm run build`; `dir/node_modules`
 * links to the project's (excluded from the build).
 */

const ROOT = resolve(import.meta.dirname, '../../..');

export function compileLedger(dir: string): string {
  const outDir = join(dir, 'dist');
  const tsc = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '--outDir',
      outDir,
      '--rootDir',
      join(ROOT, 'src'),
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--target',
      'ES2022',
      '--skipLibCheck',
      '--types',
      'node',
      join(ROOT, 'src/ledger/index.ts'),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const entry = join(outDir, 'ledger/index.js');
  if (!existsSync(entry)) throw new Error(`compiling the ledger failed: ${tsc.stdout}${tsc.stderr}`);
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return entry;
}
