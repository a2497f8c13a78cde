import type { ProviderAdapter } from '../providers/index.js';

/**
 * The event that tells a client "done" is held back until the ledger has committed the request:
 * a client that saw the end of a stream can count on its cost being recorded, even if the process
 * dies the next instant. Each adapter names its markers; they are turned into bytes once.
 */
const markerBytes = new WeakMap<ProviderAdapter, readonly Buffer[]>();

export function terminalMarkers(adapter: ProviderAdapter): readonly Buffer[] {
  let bytes = markerBytes.get(adapter);
  if (bytes === undefined) {
    bytes = (adapter.terminalMarkers ?? []).map((m) => Buffer.from(m));
    markerBytes.set(adapter, bytes);
  }
  return bytes;
}

/**
 * Splits forwarded bytes (whole SSE events) into what may go out now and what must wait: the
 * event holding a terminal marker and everything after it.
 */
export function splitAtTerminal(chunk: Buffer, markers: readonly Buffer[]): [now: Buffer, held: Buffer] {
  let at = -1;
  for (const marker of markers) {
    const i = chunk.indexOf(marker);
    if (i !== -1 && (at === -1 || i < at)) at = i;
  }
  if (at === -1) return [chunk, EMPTY];
  const lf = chunk.lastIndexOf('\n\n', at);
  const crlf = chunk.lastIndexOf('\r\n\r\n', at);
  const start = Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
  return [chunk.subarray(0, start), chunk.subarray(start)];
}

const EMPTY = Buffer.alloc(0);
