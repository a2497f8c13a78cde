/** The SSE bytes without the blocks whose text contains `marker` (what a client should receive). */
export function withoutBlocks(sse: Buffer, marker: string, separator = '\n\n'): Buffer {
  const text = sse.toString('utf8');
  const blocks = text.split(separator);
  const tail = blocks.pop() ?? '';
  const kept = blocks.filter((block) => !block.includes(marker)).map((block) => block + separator);
  return Buffer.from(kept.join('') + tail);
}
