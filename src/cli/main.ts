#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { PertokenError } from '../errors.js';
import { buildProgram } from './program.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Every failure ends as one line naming the offending flag or field, and exit code 1. */
function fail(err: unknown): never {
  if (err instanceof PertokenError) process.stderr.write(err.toLine() + '\n');
  else process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

// A reader that stops early (`pertoken report | head`) closes the pipe: its choice, not our failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  fail(err);
});

buildProgram(pkg.version)
  .exitOverride((err) => process.exit(err.exitCode))
  .parseAsync(process.argv)
  .catch(fail);
