import { seededRandom } from '../../random.js';
import type { StreamTap, TapResult } from '../types.js';

/** Test helpers: feed a stream tap the same bytes in different chunkings. */

export interface FeedOutcome {
  forwarded: Buffer;
  result: TapResult;
}

export function feedChunks(tap: StreamTap, chunks: readonly Buffer[]): FeedOutcome {
  const out: Buffer[] = [];
  for (const chunk of chunks) out.push(tap.push(chunk));
  out.push(tap.flush());
  return { forwarded: Buffer.concat(out), result: tap.result() };
}

export function splitEvery(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

/** Chunks of 1..maxSize bytes from a seeded generator, so a failure can be replayed. */
export function splitRandomly(bytes: Buffer, seed: number, maxSize = 64): Buffer[] {
  const next = seededRandom(seed);
  const chunks: Buffer[] = [];
  let i = 0;
  while (i < bytes.length) {
    const size = 1 + Math.floor(next() * maxSize);
    chunks.push(bytes.subarray(i, i + size));
    i += size;
  }
  return chunks;
}

/** Whole, byte by byte, and several random chunkings of the same bytes. */
export function chunkings(bytes: Buffer): Array<{ name: string; chunks: Buffer[] }> {
  return [
    { name: 'whole', chunks: [bytes] },
    { name: 'byte-by-byte', chunks: splitEvery(bytes, 1) },
    ...[1, 2, 3, 42, 1234].map((seed) => ({ name: `random seed ${seed}`, chunks: splitRandomly(bytes, seed) })),
    { name: 'random large', chunks: splitRandomly(bytes, 7, 700) },
  ];
}
