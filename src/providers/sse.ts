import type { StreamTap, StreamTapOptions, TapResult } from './types.js';

/**
 * Incremental Server-Sent Events reader (WHATWG "event stream" parsing) that keeps the exact bytes
 * of every event, so a tap can forward upstream bytes unchanged and still read what they say.
 * Lines end in LF, CRLF or CR; events may be split across any chunk boundary.
 */

export interface SseEvent {
  /** The `event:` field, or "message" when absent. */
  type: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  id: string | null;
}

export interface SseBlock {
  /** The bytes as received, including the blank line that ended the block. */
  raw: Buffer;
  /**
   * The event, or null for a block that dispatches none (only comments such as `: ping`, no data
   * field) and for bytes of an oversized event forwarded unread.
   */
  event: SseEvent | null;
}

export const DEFAULT_MAX_EVENT_BYTES = 32 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const COLON = 0x3a;
const EMPTY = Buffer.alloc(0);
const DATA_FIELD = Buffer.from('data');
const EVENT_FIELD = Buffer.from('event');
const ID_FIELD = Buffer.from('id');

export class SseReader {
  readonly #maxEventBytes: number;
  /**
   * Growable byte store: bytes [start, end) are the current block not yet handed out. Appending
   * into spare capacity (instead of concatenating per chunk) keeps a large event arriving in many
   * small chunks linear in its size.
   */
  #store: Buffer = EMPTY;
  #start = 0;
  #end = 0;
  /** Next byte to scan (absolute index into store). */
  #pos = 0;
  /** Where the current line starts (absolute index into store). */
  #lineStart = 0;
  /** The current line already had bytes handed out (oversized event), so it is not blank. */
  #lineContinued = false;
  /** The current event exceeded maxEventBytes: its bytes are handed out unread. */
  #skipping = false;
  #atStreamStart = true;
  #type = '';
  /** The `data:` lines joined with "\n", or null before the first (no event to dispatch). */
  #data: string | null = null;
  #id: string | null = null;

  constructor(options: { maxEventBytes?: number } = {}) {
    this.#maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  push(chunk: Buffer): SseBlock[] {
    if (chunk.length === 0) return [];
    this.#append(chunk);
    const blocks = this.#scan(false);
    if (this.#skipping || this.#end - this.#start > this.#maxEventBytes) blocks.push(this.#handOutScanned());
    this.#releaseIfIdle();
    return blocks;
  }

  /** The stream ended: a trailing CR ends its line, and an unterminated last event is dispatched. */
  flush(): SseBlock[] {
    const blocks = this.#scan(true);
    if (this.#end > this.#start) {
      if (!this.#skipping && this.#lineStart < this.#end) this.#parseLine(this.#lineStart, this.#end);
      blocks.push(this.#dispatch(this.#take(this.#end)));
    }
    this.#lineContinued = false;
    this.#skipping = false;
    this.#resetFields();
    this.#releaseIfIdle();
    return blocks;
  }

  #append(chunk: Buffer): void {
    const pending = this.#end - this.#start;
    if (this.#end + chunk.length > this.#store.length) {
      const needed = pending + chunk.length;
      const target = needed <= this.#store.length / 2 ? this.#store : Buffer.allocUnsafe(Math.max(needed * 2, 4096));
      this.#store.copy(target, 0, this.#start, this.#end);
      this.#store = target;
      this.#pos -= this.#start;
      this.#lineStart -= this.#start;
      this.#start = 0;
      this.#end = pending;
    }
    chunk.copy(this.#store, this.#end);
    this.#end += chunk.length;
  }

  /** Hands out bytes [start, upTo) as an independent Buffer (the store is reused). */
  #take(upTo: number): Buffer {
    const raw = Buffer.allocUnsafe(upTo - this.#start);
    this.#store.copy(raw, 0, this.#start, upTo);
    this.#start = upTo;
    return raw;
  }

  /** Nothing pending: rewind, and let go of a store grown for one large event. */
  #releaseIfIdle(): void {
    if (this.#start !== this.#end) return;
    this.#start = this.#end = this.#pos = this.#lineStart = 0;
    if (this.#store.length > 64 * 1024) this.#store = EMPTY;
  }

  #scan(final: boolean): SseBlock[] {
    const blocks: SseBlock[] = [];
    const end = this.#end;
    // Line ends are found with indexOf (native memchr) instead of a byte loop. It cannot stop at
    // `end` and the spare capacity holds stale bytes, so it searches a view that ends there.
    const view = end === this.#store.length ? this.#store : this.#store.subarray(0, end);
    // Next LF / CR at or after i; -1: none before `end`. Each is searched again only once passed,
    // so every byte is looked at once per kind even in CR-only or LF-only streams.
    let nextLf = -2;
    let nextCr = -2;
    let i = this.#pos;
    while (i < end) {
      if (nextLf !== -1 && nextLf < i) nextLf = view.indexOf(LF, i);
      if (nextCr !== -1 && nextCr < i) nextCr = view.indexOf(CR, i);
      const eol = nextCr === -1 || (nextLf !== -1 && nextLf < nextCr) ? nextLf : nextCr;
      if (eol === -1) {
        i = end;
        break;
      }
      let terminator = 1;
      if (eol === nextCr) {
        if (eol + 1 < end) terminator = view[eol + 1] === LF ? 2 : 1;
        else if (!final) {
          i = eol; // a CR at the end may be the first half of CRLF: wait for more
          break;
        }
      }
      const blank = eol === this.#lineStart && !this.#lineContinued;
      if (!blank && !this.#skipping) this.#parseLine(this.#lineStart, eol);
      i = eol + terminator;
      this.#lineStart = i;
      this.#lineContinued = false;
      if (blank) {
        // An event larger than the limit is never parsed, however it was chunked.
        if (i - this.#start > this.#maxEventBytes) this.#skipping = true;
        blocks.push(this.#dispatch(this.#take(i)));
      }
    }
    this.#pos = i;
    return blocks;
  }

  /** Oversized event: hand out what was scanned so far and stop keeping its bytes. */
  #handOutScanned(): SseBlock {
    if (!this.#skipping) this.#resetFields();
    this.#skipping = true;
    this.#lineContinued = this.#lineContinued || this.#pos > this.#lineStart;
    const raw = this.#take(this.#pos);
    this.#lineStart = this.#pos;
    return { raw, event: null };
  }

  /**
   * One line, bytes [start, end) of the store. Field names are compared as bytes and only the
   * value of a field that is kept gets decoded: decoding from just after `data: ` gives the same
   * text as decoding the line and slicing, because UTF-8 resynchronises at an ASCII byte.
   */
  #parseLine(start: number, end: number): void {
    const store = this.#store;
    if (this.#atStreamStart) {
      this.#atStreamStart = false;
      if (end - start >= 3 && store[start] === 0xef && store[start + 1] === 0xbb && store[start + 2] === 0xbf) {
        start += 3; // byte order mark
      }
    }
    if (start === end || store[start] === COLON) return; // comment / keepalive
    let colon = start;
    while (colon < end && store[colon] !== COLON) colon++;
    let valueStart = colon < end ? colon + 1 : end;
    if (valueStart < end && store[valueStart] === SPACE) valueStart++;
    const nameLength = colon - start;
    if (fieldIs(store, start, nameLength, DATA_FIELD)) {
      const value = store.toString('utf8', valueStart, end);
      this.#data = this.#data === null ? value : `${this.#data}\n${value}`;
    } else if (fieldIs(store, start, nameLength, EVENT_FIELD)) {
      this.#type = store.toString('utf8', valueStart, end);
    } else if (fieldIs(store, start, nameLength, ID_FIELD)) {
      const value = store.toString('utf8', valueStart, end);
      if (!value.includes('\0')) this.#id = value;
    }
  }

  #dispatch(raw: Buffer): SseBlock {
    this.#atStreamStart = false;
    let event: SseEvent | null = null;
    if (!this.#skipping && this.#data !== null) {
      event = { type: this.#type || 'message', data: this.#data, id: this.#id };
    }
    this.#skipping = false;
    this.#resetFields();
    return { raw, event };
  }

  #resetFields(): void {
    this.#type = '';
    this.#data = null;
    this.#id = null;
  }
}

function fieldIs(store: Buffer, start: number, length: number, name: Buffer): boolean {
  if (length !== name.length) return false;
  for (let k = 0; k < length; k++) if (store[start + k] !== name[k]) return false;
  return true;
}

/** What a provider's stream tap does with each event: keep it for the client or hide it. */
export type EventVerdict = 'forward' | 'drop';

export interface SseEventHandler {
  onEvent(event: SseEvent): EventVerdict;
  result(): TapResult;
}

/** A StreamTap over SSE: forwards whole events only, asks the handler which to hide. */
export function createSseTap(handler: SseEventHandler, options: StreamTapOptions = {}): StreamTap {
  const reader = new SseReader(options);
  const forward = (blocks: SseBlock[]): Buffer => {
    const kept: Buffer[] = [];
    for (const block of blocks) {
      if (block.event === null || handler.onEvent(block.event) === 'forward') kept.push(block.raw);
    }
    return kept.length === 1 ? (kept[0] as Buffer) : Buffer.concat(kept);
  };
  return {
    push: (chunk) => forward(reader.push(chunk)),
    flush: () => forward(reader.flush()),
    result: () => handler.result(),
  };
}

/** For routes that never stream: bytes pass through untouched and nothing is learned from them. */
export function createPassthroughTap(): StreamTap {
  return {
    push: (chunk) => chunk,
    flush: () => EMPTY,
    result: emptyTapResult,
  };
}

/** What a response that told us nothing yields: no usage, no model, not completed. */
export function emptyTapResult(): TapResult {
  return { usage: null, servedModel: null, outputText: '', completed: false, streamError: null };
}

/** JSON.parse that answers undefined instead of throwing: a tap must never break a stream. */
export function parseJsonData(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}
