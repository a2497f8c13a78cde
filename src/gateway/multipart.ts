import { invalidInput } from '../errors.js';

/**
 * Watches a multipart/form-data body (RFC 7578) go by on its way upstream and keeps the values of
 * its small text fields (`model`, `n`, `size`, `prompt`…). File parts are skipped by looking for
 * the next boundary only: their bytes are never copied, decoded or parsed. The bytes themselves
 * are forwarded by the caller exactly as they came; a body this reader cannot follow is still
 * forwarded (the upstream judges it), only its fields stay unknown.
 */

/** Largest text field kept; a longer one (a long prompt) is known to exist but not kept. */
const MAX_FIELD_BYTES = 64 * 1024;
/** Largest header block of one part. */
const MAX_PART_HEADER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

type State = 'preamble' | 'delimiter' | 'headers' | 'content' | 'done' | 'lost';

export class MultipartFields {
  readonly #delimiter: Buffer;
  /** Unconsumed bytes: at most a delimiter's length in content, one header block in headers. */
  #pending: Buffer;
  #state: State = 'preamble';
  #name: string | null = null;
  #isFile = false;
  #value: Buffer[] = [];
  #valueBytes = 0;
  readonly #fields = new Map<string, string>();

  /** `boundary` from the Content-Type header (multipartBoundary). */
  constructor(boundary: string) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
    // The first delimiter may open the body without a CRLF before it: reading as if one were
    // there lets one search find every delimiter.
    this.#pending = CRLF;
  }

  /** Text fields complete so far (the last value of a repeated name). */
  get fields(): Readonly<Record<string, string>> {
    return Object.fromEntries(this.#fields);
  }

  has(name: string): boolean {
    return this.#fields.has(name);
  }

  /** The closing delimiter was seen: every field is known. */
  get complete(): boolean {
    return this.#state === 'done';
  }

  push(chunk: Buffer): void {
    if (this.#state === 'done' || this.#state === 'lost' || chunk.length === 0) return;
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    for (;;) {
      const next = this.#step(buf);
      if (next === null) break;
      buf = next;
    }
  }

  /** One step of the state machine; returns the bytes left to read, or null to wait for more. */
  #step(buf: Buffer): Buffer | null {
    switch (this.#state) {
      case 'preamble':
      case 'content': {
        const at = buf.indexOf(this.#delimiter);
        if (at === -1) {
          // Keep what could be the start of a delimiter split across chunks.
          const keep = Math.min(buf.length, this.#delimiter.length - 1);
          if (this.#state === 'content') this.#take(buf.subarray(0, buf.length - keep));
          this.#pending = Buffer.from(buf.subarray(buf.length - keep));
          return null;
        }
        if (this.#state === 'content') {
          this.#take(buf.subarray(0, at));
          this.#endPart();
        }
        this.#state = 'delimiter';
        return buf.subarray(at + this.#delimiter.length);
      }
      case 'delimiter': {
        if (buf.length < 2) return this.#wait(buf);
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          this.#state = 'done';
          this.#pending = Buffer.alloc(0);
          return null;
        }
        // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
        let i = 0;
        while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
        if (buf.length - i < 2) return this.#wait(buf);
        if (buf[i] !== 0x0d || buf[i + 1] !== 0x0a) return this.#lose();
        this.#state = 'headers';
        return buf.subarray(i + 2);
      }
      case 'headers': {
        // A part without headers starts its content right after the delimiter line.
        const end = buf.subarray(0, 2).equals(CRLF) ? -2 : buf.indexOf(HEADER_END);
        if (end === -1) return buf.length > MAX_PART_HEADER_BYTES ? this.#lose() : this.#wait(buf);
        this.#startPart(end === -2 ? '' : buf.subarray(0, end).toString('latin1'));
        this.#state = 'content';
        // The delimiter search needs its CRLF: content starts after the header block.
        return buf.subarray(end === -2 ? 2 : end + 4);
      }
      default:
        return null;
    }
  }

  #wait(buf: Buffer): null {
    this.#pending = Buffer.from(buf);
    return null;
  }

  #lose(): null {
    this.#state = 'lost';
    this.#pending = Buffer.alloc(0);
    this.#value = [];
    return null;
  }

  #startPart(headers: string): void {
    this.#name = null;
    this.#isFile = false;
    this.#value = [];
    this.#valueBytes = 0;
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
      const params = line.slice(colon + 1);
      this.#name = dispositionParam(params, 'name');
      this.#isFile = dispositionParam(params, 'filename') !== null || /;\s*filename\*=/i.test(params);
    }
  }

  #take(bytes: Buffer): void {
    if (this.#isFile || this.#name === null || bytes.length === 0) return;
    this.#valueBytes += bytes.length;
    if (this.#valueBytes <= MAX_FIELD_BYTES) this.#value.push(Buffer.from(bytes));
    else this.#value = [];
  }

  #endPart(): void {
    if (this.#name !== null && !this.#isFile && this.#valueBytes <= MAX_FIELD_BYTES) {
      // Field names are stored as UTF-8 in the header block (RFC 7578 §5.1.1).
      this.#fields.set(Buffer.from(this.#name, 'latin1').toString('utf8'), Buffer.concat(this.#value).toString('utf8'));
    }
    this.#name = null;
    this.#value = [];
  }
}

/** `name="model"` or `name=model` of a Content-Disposition value; null when absent. */
function dispositionParam(params: string, key: string): string | null {
  const re = new RegExp(`;\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, 'i');
  const m = re.exec(params);
  if (!m) return null;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? null);
}

/** The boundary of a multipart/form-data Content-Type; a 400 naming the header otherwise. */
export function multipartBoundary(contentType: string | undefined): string {
  const type = contentType ?? '';
  if (!/^multipart\/form-data\s*(;|$)/i.test(type))
    throw invalidInput('content-type', 'this route takes a multipart/form-data body', 'invalid_header');
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(type);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw invalidInput('content-type', 'multipart/form-data needs a boundary', 'invalid_header');
  return boundary;
}
