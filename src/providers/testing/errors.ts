import { PertokenError } from '../../errors.js';

/** Runs `fn` and returns the PertokenError it threw (fails the test when it throws anything else). */
export function thrownBy(fn: () => unknown): PertokenError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof PertokenError) return err;
    throw new Error(`expected a PertokenError, got ${String(err)}`);
  }
  throw new Error('expected a PertokenError, nothing was thrown');
}

/** The SSE bytes without the blocks whose text contains `marker` (what a client should receive). */
export function withoutBlocks(sse: Buffer, marker: string, separator = '\n\n'): Buffer {
  const text = sse.toString('utf8');
  const blocks = text.split(separator);
  const tail = blocks.pop() ?? '';
  const kept = blocks.filter((block) => !block.includes(marker)).map((block) => block + separator);
  return Buffer.from(kept.join('') + tail);
}
