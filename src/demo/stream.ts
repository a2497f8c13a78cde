import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Faults } from './faults.js';

/**
 * Writing responses with precise timing. A stream is a list of frames; content frames are scheduled
 * at `start + ttft + i * itl` (absolute due times from the stream start, so timer lateness never
 * accumulates), and the non-content frames before a content frame go out in the same write so that
 * the first byte a client sees is the first token. No per-chunk work happens besides the write.
 */

/** One SSE event, already serialized. `content` marks frames that carry generated tokens. */
export interface Frame {
  data: string;
  content: boolean;
}

export interface StreamPlan {
  frames: Frame[];
  /** The malformed event a `broken-sse` fault injects, in this wire's framing. */
  malformed: string;
}

export interface Timing {
  ttftMs: number;
  itlMs: number;
}

/** Tracks one response's lifetime so that sleeps and waits end the moment the client goes away. */
export class Lifecycle {
  closed = false;
  readonly #waiters = new Set<() => void>();

  constructor(res: ServerResponse) {
    res.once('close', () => {
      this.closed = true;
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
    });
  }

  /** Sleeps until `due` (a performance.now() value), or until the response closes. */
  async sleepUntil(due: number): Promise<void> {
    // Timers may fire up to a millisecond early against performance.now(): loop so a chunk is never
    // sent before its due time, which keeps a measured TTFT from undershooting the configured one.
    while (!this.closed) {
      const remaining = due - performance.now();
      if (remaining <= 0) return;
      await this.#wait((wake) => {
        const timer = setTimeout(wake, Math.max(1, remaining));
        return () => clearTimeout(timer);
      });
    }
  }

  /** Resolves when the response closes (client gone, socket destroyed, or response finished). */
  untilClosed(): Promise<void> {
    return this.#wait(() => () => {});
  }

  /** Writes, and on back-pressure waits for 'drain' (or close) before returning. */
  async write(res: ServerResponse, data: string): Promise<void> {
    if (this.closed || res.write(data)) return;
    await this.#wait((wake) => {
      res.once('drain', wake);
      return () => res.off('drain', wake);
    });
  }

  #wait(arm: (wake: () => void) => () => void): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        disarm();
        this.#waiters.delete(wake);
        resolve();
      };
      const disarm = arm(wake);
      this.#waiters.add(wake);
    });
  }
}

/** How far a stream got: the engine metrics count the tokens a client actually received. */
export interface StreamOutcome {
  /** Content frames written. */
  sent: number;
  /** Every frame went out and the response ended (no cut, no stall, the client stayed). */
  complete: boolean;
}

/**
 * Sends `plan` on a response whose headers are already written; content chunk i is due at
 * `start + ttft + i * itl` (`start` is a performance.now() value). Resolves once the stream ended,
 * was cut, or the client left.
 */
export async function runStream(
  res: ServerResponse,
  life: Lifecycle,
  start: number,
  plan: StreamPlan,
  timing: Timing,
  faults: Faults,
): Promise<StreamOutcome> {
  let sent = 0;
  const early = async (ending: Promise<void>): Promise<StreamOutcome> => {
    await ending;
    return { sent, complete: false };
  };
  if (faults.cutAfter === 0) return early(cut(res, life));
  if (faults.stallAfter === 0) return early(life.untilClosed());

  let pending = '';
  for (const frame of plan.frames) {
    pending += frame.data;
    if (!frame.content) continue;
    await life.sleepUntil(start + timing.ttftMs + sent * timing.itlMs);
    if (life.closed) return { sent, complete: false };
    if (faults.brokenSse && sent === 0) pending += plan.malformed;
    await life.write(res, pending);
    pending = '';
    sent += 1;
    if (faults.cutAfter !== null && sent >= faults.cutAfter) return early(cut(res, life));
    if (faults.stallAfter !== null && sent >= faults.stallAfter) return early(life.untilClosed());
  }
  // A cut or stall beyond the last content chunk still withholds usage and the terminator.
  if (faults.cutAfter !== null) return early(cut(res, life));
  if (faults.stallAfter !== null) return early(life.untilClosed());
  if (sent === 0) {
    await life.sleepUntil(start + timing.ttftMs);
    if (faults.brokenSse) pending = plan.malformed + pending;
  }
  if (life.closed) return { sent, complete: false };
  await life.write(res, pending);
  res.end();
  return { sent, complete: true };
}

/**
 * Sends a complete JSON body with the byte-level faults applied: `cut-after:N` and
 * `stall-after:N` send the first N bytes under the full content-length; `broken-sse` drops the last
 * byte so the body no longer parses.
 */
export async function sendBody(
  res: ServerResponse,
  life: Lifecycle,
  status: number,
  headers: Record<string, string>,
  json: unknown,
  faults: Faults,
): Promise<void> {
  let body = Buffer.from(JSON.stringify(json));
  if (faults.brokenSse) body = body.subarray(0, body.length - 1);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(body.length) });
  const partial = faults.cutAfter ?? faults.stallAfter;
  if (partial === null) {
    res.end(body);
    return;
  }
  res.write(body.subarray(0, Math.min(partial, body.length)));
  if (faults.cutAfter !== null) return cut(res, life);
  await life.untilClosed();
}

/**
 * Destroys the connection once what was written has reached the kernel: node:http corks a
 * response's writes until the next tick, so destroying at once would drop the very chunks the
 * fault promises to deliver.
 */
async function cut(res: ServerResponse, life: Lifecycle): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  const socket = res.socket;
  if (socket && socket.writableLength > 0 && !life.closed) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }
  socket?.destroy();
  res.destroy();
}
