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
const EMPTY = Buffer.alloc(0);

export class SseReader {
  private readonly maxEventBytes: number;
  /**
   * Growable byte store: bytes [start, end) are the current block not yet handed out. Appending
   * into spare capacity (instead of concatenating per chunk) keeps a large event arriving in many
   * small chunks linear in its size.
   */
  private store: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  /** Next byte to scan (absolute index into store). */
  private pos = 0;
  /** Where the current line starts (absolute index into store). */
  private lineStart = 0;
  /** The current line already had bytes handed out (oversized event), so it is not blank. */
  private lineContinued = false;
  /** The current event exceeded maxEventBytes: its bytes are handed out unread. */
  private skipping = false;
  private atStreamStart = true;
  private type = '';
  private data: string[] = [];
  private id: string | null = null;

  constructor(options: { maxEventBytes?: number } = {}) {
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  push(chunk: Buffer): SseBlock[] {
    if (chunk.length === 0) return [];
    this.append(chunk);
    const blocks = this.scan(false);
    if (this.skipping || this.end - this.start > this.maxEventBytes) blocks.push(this.handOutScanned());
    this.releaseIfIdle();
    return blocks;
  }

  /** The stream ended: a trailing CR ends its line, and an unterminated last event is dispatched. */
  flush(): SseBlock[] {
    const blocks = this.scan(true);
    if (this.end > this.start) {
      if (!this.skipping && this.lineStart < this.end) {
        this.parseLine(this.store.toString('utf8', this.lineStart, this.end));
      }
      blocks.push(this.dispatch(this.take(this.end)));
    }
    this.lineContinued = false;
    this.skipping = false;
    this.resetFields();
    this.releaseIfIdle();
    return blocks;
  }

  private append(chunk: Buffer): void {
    const pending = this.end - this.start;
    if (this.end + chunk.length > this.store.length) {
      const needed = pending + chunk.length;
      const target =
        needed <= this.store.length / 2 ? this.store : Buffer.allocUnsafe(Math.max(needed * 2, 4096));
      this.store.copy(target, 0, this.start, this.end);
      this.store = target;
      this.pos -= this.start;
      this.lineStart -= this.start;
      this.start = 0;
      this.end = pending;
    }
    chunk.copy(this.store, this.end);
    this.end += chunk.length;
  }

  /** Hands out bytes [start, upTo) as an independent Buffer (the store is reused). */
  private take(upTo: number): Buffer {
    const raw = Buffer.from(this.store.subarray(this.start, upTo));
    this.start = upTo;
    return raw;
  }

  /** Nothing pending: rewind, and let go of a store grown for one large event. */
  private releaseIfIdle(): void {
    if (this.start !== this.end) return;
    this.start = this.end = this.pos = this.lineStart = 0;
    if (this.store.length > 64 * 1024) this.store = EMPTY;
  }

  private scan(final: boolean): SseBlock[] {
    const blocks: SseBlock[] = [];
    const store = this.store;
    let i = this.pos;
    while (i < this.end) {
      const byte = store[i];
      if (byte !== LF && byte !== CR) {
        i++;
        continue;
      }
      let terminator = 1;
      if (byte === CR) {
        if (i + 1 < this.end) terminator = store[i + 1] === LF ? 2 : 1;
        else if (!final) break; // a CR at the end may be the first half of CRLF: wait for more
      }
      const blank = i === this.lineStart && !this.lineContinued;
      if (!blank && !this.skipping) this.parseLine(store.toString('utf8', this.lineStart, i));
      i += terminator;
      this.lineStart = i;
      this.lineContinued = false;
      if (blank) {
        // An event larger than the limit is never parsed, however it was chunked.
        if (i - this.start > this.maxEventBytes) this.skipping = true;
        blocks.push(this.dispatch(this.take(i)));
      }
    }
    this.pos = i;
    return blocks;
  }

  /** Oversized event: hand out what was scanned so far and stop keeping its bytes. */
  private handOutScanned(): SseBlock {
    if (!this.skipping) this.resetFields();
    this.skipping = true;
    this.lineContinued = this.lineContinued || this.pos > this.lineStart;
    const raw = this.take(this.pos);
    this.lineStart = this.pos;
    return { raw, event: null };
  }

  private parseLine(line: string): void {
    if (this.atStreamStart) {
      this.atStreamStart = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    if (line.length === 0 || line[0] === ':') return; // comment / keepalive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }

  private dispatch(raw: Buffer): SseBlock {
    this.atStreamStart = false;
    let event: SseEvent | null = null;
    if (!this.skipping && this.data.length > 0) {
      event = { type: this.type || 'message', data: this.data.join('\n'), id: this.id };
    }
    this.skipping = false;
    this.resetFields();
    return { raw, event };
  }

  private resetFields(): void {
    this.type = '';
    this.data = [];
    this.id = null;
  }
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
