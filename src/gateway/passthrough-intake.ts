import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { invalidInput, PertokenError } from '../errors.js';
import { parseJsonBody, readBody } from '../http/index.js';
import { MultipartFields, multipartBoundary } from './multipart.js';

/**
 * The body of a metered pass-through call as it is taken in: what its fields say (for routing,
 * keys and budgets), the bytes to send upstream, and what its fingerprint is made of.
 */
export interface Intake {
  /** The fields known so far: every field of a JSON body; of a form, those before the point reached. */
  fields(): Readonly<Record<string, unknown>>;
  /** Every field is known (a JSON body, or a form read to its end). */
  complete(): boolean;
  /** The client's bytes, unchanged: held in memory (JSON) or streamed through (a form). */
  body: Buffer | Readable;
  /** Content headers to send with them. */
  headers: Record<string, string>;
  /** Bytes the request fingerprint is computed over (of the body sent so far). */
  fingerprint(): Buffer;
}

/** A JSON object body, read whole (bounded by server.max_body_bytes) like a model call's. */
export async function jsonIntake(req: IncomingMessage, maxBytes: number): Promise<Intake> {
  const raw = await readBody(req, maxBytes);
  const parsed = parseJsonBody(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalidInput('body', 'request body must be a JSON object');
  const fields = parsed as Record<string, unknown>;
  return {
    fields: () => fields,
    complete: () => true,
    body: raw,
    headers: { 'content-type': 'application/json' },
    fingerprint: () => raw,
  };
}

/**
 * A multipart/form-data body, streamed to the upstream. Bytes are held only until the `model`
 * field has gone by (the upstream and the key's grant depend on it): a form that sends `model`
 * before its file streams the file straight through; one that sends the file first has it held
 * in memory, up to server.max_body_bytes. The rest is never held, whatever its size.
 */
export async function multipartIntake(req: IncomingMessage, maxHeldBytes: number): Promise<Intake> {
  const contentType = req.headers['content-type'];
  const form = new MultipartFields(multipartBoundary(contentType));
  const hash: Hash = createHash('sha256');
  const iterator = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const held: Buffer[] = [];
  let heldBytes = 0;
  let ended = false;
  while (!form.has('model') && !form.complete) {
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    const chunk = next.value;
    heldBytes += chunk.length;
    if (heldBytes > maxHeldBytes) {
      throw new PertokenError(
        'body_too_large',
        `multipart body has no \`model\` field in its first ${maxHeldBytes} bytes; send \`model\` before the file`,
        { param: 'model' },
      );
    }
    held.push(chunk);
    form.push(chunk);
    hash.update(chunk);
  }
  async function* body(): AsyncGenerator<Buffer> {
    for (const chunk of held.splice(0)) yield chunk;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      form.push(next.value);
      hash.update(next.value);
      yield next.value;
    }
  }
  const headers: Record<string, string> = { 'content-type': String(contentType) };
  // The bytes go up unchanged, so their declared length holds (undici checks it); without one
  // the body goes chunked, as it came.
  const length = req.headers['content-length'];
  if (length !== undefined && /^\d{1,15}$/.test(length)) headers['content-length'] = length;
  return {
    fields: () => form.fields,
    complete: () => form.complete,
    body: Readable.from(body(), { objectMode: false }),
    headers,
    // The fingerprint covers every byte (two different audio files are two requests), digested
    // on the way rather than kept; a copy is finished, so bytes still on their way are not refused.
    fingerprint: () => hash.copy().digest(),
  };
}
