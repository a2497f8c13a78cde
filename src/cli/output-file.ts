import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { PertokenError } from '../errors.js';
import type { CliIo } from './ledger-store.js';

/**
 * Runs `produce` against stdout, or against `file` when one is given: written as `file.partial`
 * and renamed when complete, so a failure midway never leaves a truncated file under the real name.
 */
export async function writeOutput<T>(
  io: CliIo,
  file: string | undefined,
  flag: string,
  produce: (sink: Writable) => Promise<T>,
): Promise<T> {
  if (file === undefined) return produce(io.stdout);
  const partial = `${file}.partial`;
  const sink = createWriteStream(partial);
  try {
    await once(sink, 'open');
    const result = await produce(sink);
    sink.end();
    await finished(sink);
    await rename(partial, file);
    return result;
  } catch (err: unknown) {
    sink.destroy();
    await rm(partial, { force: true });
    // File system errors carry the failed syscall; ledger errors pass through as they are.
    if ((err as { syscall?: unknown } | null)?.syscall === undefined) throw err;
    const code = (err as { code?: string }).code;
    throw new PertokenError('invalid_request', `cannot write ${file}: ${code ?? String(err)}`, {
      param: flag,
      cause: err,
    });
  }
}

/** Writes a chunk and waits for 'drain' when the sink's buffer is full: memory stays at one chunk. */
export async function writeWithBackpressure(sink: Writable, chunk: string): Promise<void> {
  if (!sink.write(chunk)) await once(sink, 'drain');
}
