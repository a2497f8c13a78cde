import type { IncomingMessage } from 'node:http';
import { PertokenError } from '../errors.js';

/**
 * Reads a request body up to `limit` bytes. A declared content-length over the limit is refused
 * before reading; an undeclared one is cut off as soon as it passes the limit.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): PertokenError {
  return new PertokenError('body_too_large', `request body is larger than ${limit} bytes`);
}

/** Parses a JSON body; an empty or malformed body is a 400 that says where parsing stopped. */
export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) throw new PertokenError('invalid_json', 'request body is empty; expected JSON');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : 'unparseable';
    throw new PertokenError('invalid_json', `request body is not valid JSON: ${detail}`);
  }
}
