import type { ServerResponse } from 'node:http';
import { PertokenError, toPertokenError } from '../errors.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Renders any error as JSON, unless the response already started: OpenAI-shaped by default, or
 * by `body` (a wire's own shape, on the gateway's Anthropic routes). Status and headers such as
 * `retry-after` come from the error either way.
 */
export function sendError(
  res: ServerResponse,
  err: unknown,
  headers: Record<string, string> = {},
  body: (error: PertokenError) => unknown = (error) => error.toJSON(),
): PertokenError {
  const error = toPertokenError(err);
  if (!res.headersSent) {
    sendJson(res, error.status, body(error), { ...headers, ...error.headers });
  } else if (!res.writableEnded) {
    // The status line is gone; the only honest signal left is a broken stream.
    res.destroy();
  }
  return error;
}

/** Awaits back-pressure: resolves once the socket can take more, or the client left. */
export function writeChunk(res: ServerResponse, chunk: Buffer): Promise<void> | undefined {
  if (chunk.length === 0 || res.destroyed) return undefined;
  if (res.write(chunk)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
