import { describe, expect, it } from 'vitest';
import { createPassthroughTap, createSseTap, SseReader, type SseBlock, type SseEvent } from './sse.js';
import { chunkings, feedChunks, splitEvery } from './testing/feed.js';

function readAll(chunks: readonly Buffer[], options?: { maxEventBytes?: number }): SseBlock[] {
  const reader = new SseReader(options);
  const blocks: SseBlock[] = [];
  for (const chunk of chunks) blocks.push(...reader.push(chunk));
  blocks.push(...reader.flush());
  return blocks;
}

const events = (blocks: SseBlock[]): Array<SseEvent | null> => blocks.map((b) => b.event);
const rawOf = (blocks: SseBlock[]): Buffer => Buffer.concat(blocks.map((b) => b.raw));

describe('SseReader', () => {
  it('reads LF-delimited events and keeps their exact bytes', () => {
    const input = Buffer.from('data: {"a":1}\n\nevent: done\ndata: bye\nid: 7\n\n');
    const blocks = readAll([input]);
    expect(events(blocks)).toEqual([
      { type: 'message', data: '{"a":1}', id: null },
      { type: 'done', data: 'bye', id: '7' },
    ]);
    expect(blocks.map((b) => b.raw.toString())).toEqual(['data: {"a":1}\n\n', 'event: done\ndata: bye\nid: 7\n\n']);
  });

  it('reads CRLF and bare CR line endings', () => {
    expect(events(readAll([Buffer.from('event: x\r\ndata: 1\r\n\r\ndata: 2\r\rdata: 3\n\n')]))).toEqual([
      { type: 'x', data: '1', id: null },
      { type: 'message', data: '2', id: null },
      { type: 'message', data: '3', id: null },
    ]);
  });

  it('does not take a CRLF split across chunks for a blank line', () => {
    const blocks = readAll([
      Buffer.from('data: a\r'),
      Buffer.from('\ndata: b\r'),
      Buffer.from('\n\r'),
      Buffer.from('\n'),
    ]);
    expect(events(blocks)).toEqual([{ type: 'message', data: 'a\nb', id: null }]);
    expect(rawOf(blocks).toString()).toBe('data: a\r\ndata: b\r\n\r\n');
  });

  it('joins multi-line data with newlines and follows the field rules', () => {
    const input = 'data: line one\ndata:line two\ndata\ndata:  spaced\nretry: 1000\nunknown: x\n\n';
    expect(events(readAll([Buffer.from(input)]))).toEqual([
      { type: 'message', data: 'line one\nline two\n\n spaced', id: null },
    ]);
  });

  it('forwards comment-only blocks and data-less blocks without an event', () => {
    const input = ': ping\n\nevent: lonely\n\n:keepalive\ndata: x\n\n';
    const blocks = readAll([Buffer.from(input)]);
    expect(events(blocks)).toEqual([null, null, { type: 'message', data: 'x', id: null }]);
    expect(rawOf(blocks).toString()).toBe(input);
  });

  it('dispatches a final event that has no trailing blank line at flush', () => {
    expect(events(readAll([Buffer.from('data: 1\n\ndata: last')]))).toEqual([
      { type: 'message', data: '1', id: null },
      { type: 'message', data: 'last', id: null },
    ]);
    expect(events(readAll([Buffer.from('data: last\n')]))).toEqual([{ type: 'message', data: 'last', id: null }]);
    expect(events(readAll([Buffer.from('data: last\r')]))).toEqual([{ type: 'message', data: 'last', id: null }]);
  });

  it('strips a byte order mark at the start of the stream', () => {
    const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('data: x\n\n')]);
    const blocks = readAll(splitEvery(input, 1));
    expect(events(blocks)).toEqual([{ type: 'message', data: 'x', id: null }]);
    expect(rawOf(blocks)).toEqual(input);
  });

  it('yields the same events and bytes however the input is chunked, multi-byte UTF-8 included', () => {
    const input = Buffer.from(
      ': ping\r\n\r\nevent: a\r\ndata: héllo 你好 👍\r\n\r\ndata: {"x":\ndata: 2}\n\nevent: b\rdata: z\r\r: tail\n\ndata: end',
    );
    const expected = readAll([input]);
    expect(expected.length).toBe(6);
    for (const { name, chunks } of chunkings(input)) {
      const blocks = readAll(chunks);
      expect(events(blocks), name).toEqual(events(expected));
      expect(rawOf(blocks).equals(input), name).toBe(true);
    }
  });

  it('never reads stale bytes left in its buffer past the pending data as a line end', () => {
    const reader = new SseReader();
    expect(events(reader.push(Buffer.from('data: a long first event\n\n')))).toEqual([
      { type: 'message', data: 'a long first event', id: null },
    ]);
    expect(reader.push(Buffer.from('data: b'))).toEqual([]);
    expect(events(reader.push(Buffer.from('\n\n')))).toEqual([{ type: 'message', data: 'b', id: null }]);
  });

  it('reads many CR-only and LF-only lines arriving in one chunk', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `data: ${i}`);
    for (const end of ['\r', '\n', '\r\n']) {
      const input = Buffer.from(lines.map((line) => `${line}${end}${end}`).join(''));
      expect(readAll([input]).map((b) => b.event?.data)).toEqual(lines.map((_, i) => String(i)));
    }
  });

  it('reassembles a large event arriving in many small chunks', () => {
    const payload = JSON.stringify({ text: 'é'.repeat(150_000) });
    const input = Buffer.from(`event: response.completed\ndata: ${payload}\n\ndata: next\n\n`);
    const blocks = readAll(splitEvery(input, 1000));
    expect(events(blocks)).toEqual([
      { type: 'response.completed', data: payload, id: null },
      { type: 'message', data: 'next', id: null },
    ]);
    expect(rawOf(blocks).equals(input)).toBe(true);
  });

  it('forwards an oversized event unread and keeps reading after it', () => {
    const big = `data: ${'x'.repeat(500)}\ndata: more\n\n`;
    const input = Buffer.from(`data: small\n\n${big}data: after\n\n`);
    for (const { name, chunks } of chunkings(input)) {
      const blocks = readAll(chunks, { maxEventBytes: 100 });
      expect(rawOf(blocks).equals(input), name).toBe(true);
      expect(
        events(blocks).filter((e) => e !== null),
        name,
      ).toEqual([
        { type: 'message', data: 'small', id: null },
        { type: 'message', data: 'after', id: null },
      ]);
    }
    // Fed in small pieces, no more than ~maxEventBytes of the big event is ever held at once.
    const blocks = readAll(splitEvery(input, 1), { maxEventBytes: 100 });
    expect(blocks.filter((b) => b.event === null).every((b) => b.raw.length <= 101)).toBe(true);
  });
});

describe('createSseTap', () => {
  it('forwards whole events only and hides the ones the handler drops', () => {
    const seen: string[] = [];
    const tap = createSseTap({
      onEvent: (event) => {
        seen.push(event.data);
        return event.data === 'secret' ? 'drop' : 'forward';
      },
      result: () => ({
        usage: null,
        servedModel: null,
        outputText: seen.join(','),
        completed: false,
        streamError: null,
      }),
    });
    expect(tap.push(Buffer.from('data: one\n\ndata: sec')).toString()).toBe('data: one\n\n');
    expect(tap.push(Buffer.from('ret\n\n: ping\n\ndata: two')).toString()).toBe(': ping\n\n');
    expect(tap.flush().toString()).toBe('data: two');
    expect(tap.result().outputText).toBe('one,secret,two');
  });
});

describe('createPassthroughTap', () => {
  it('passes bytes through and learns nothing', () => {
    const input = Buffer.from('{"not":"sse"}');
    const { forwarded, result } = feedChunks(createPassthroughTap(), splitEvery(input, 3));
    expect(forwarded.equals(input)).toBe(true);
    expect(result).toEqual({ usage: null, servedModel: null, outputText: '', completed: false, streamError: null });
  });
});
