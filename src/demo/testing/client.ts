import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';

/** Test-only client helpers: plain undici requests and an SSE reader that records arrival times. */

export interface SseEvent {
  event: string | null;
  data: string;
  /** performance.now() when the bytes carrying this event were read. */
  at: number;
}

export interface SseResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: SseEvent[];
  /** The error that ended the body early (socket cut), or null when it ended normally. */
  error: unknown;
  /** Bytes after the last complete event (a half-sent event). */
  rest: string;
}

export function jsonHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', ...extra };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: unknown; text: string }> {
  const res = await request(url, {
    method: 'POST',
    headers: jsonHeaders(headers),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.statusCode, headers: res.headers, json, text };
}

export async function postSse(url: string, body: unknown, headers: Record<string, string> = {}): Promise<SseResult> {
  const res = await request(url, { method: 'POST', headers: jsonHeaders(headers), body: JSON.stringify(body) });
  const events: SseEvent[] = [];
  let buffer = '';
  let error: unknown = null;
  try {
    for await (const chunk of res.body) {
      const at = performance.now();
      buffer += (chunk as Buffer).toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        events.push(parseEvent(buffer.slice(0, end), at));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (err) {
    error = err;
  }
  return { status: res.statusCode, headers: res.headers, events, error, rest: buffer };
}

/** An SSE response read one event at a time, so a test can act mid-stream. */
export interface OpenSse {
  status: number;
  /** The next complete event, or null when the body ended (or failed: see `error`). */
  next(): Promise<SseEvent | null>;
  error: unknown;
  /** Drops the connection, as a client that goes away. */
  abort(): void;
}

export async function openSse(url: string, body: unknown, headers: Record<string, string> = {}): Promise<OpenSse> {
  const res: Dispatcher.ResponseData = await request(url, {
    method: 'POST',
    headers: jsonHeaders(headers),
    body: JSON.stringify(body),
  });
  const iterator = res.body[Symbol.asyncIterator]();
  const queue: SseEvent[] = [];
  let buffer = '';
  const stream: OpenSse = {
    status: res.statusCode,
    error: null,
    async next() {
      while (queue.length === 0) {
        let step: IteratorResult<unknown>;
        try {
          step = await iterator.next();
        } catch (err) {
          stream.error = err;
          return null;
        }
        if (step.done) return null;
        const at = performance.now();
        buffer += (step.value as Buffer).toString('utf8');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          queue.push(parseEvent(buffer.slice(0, end), at));
          buffer = buffer.slice(end + 2);
        }
      }
      return queue.shift() ?? null;
    },
    abort() {
      res.body.destroy();
    },
  };
  return stream;
}

function parseEvent(block: string, at: number): SseEvent {
  let event: string | null = null;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  return { event, data: data.join('\n'), at };
}

/** Parsed `data` of every event (throws on a malformed one, which a test may expect). */
export function dataOf(events: SseEvent[]): Array<Record<string, unknown>> {
  return events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as Record<string, unknown>);
}

/** Polls `check` until it holds; the test's own timeout bounds the wait. */
export async function eventually(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}
