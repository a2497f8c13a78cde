import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { MultipartFields, multipartBoundary } from './multipart.js';

const BOUNDARY = '----pertoken7MA4YWxkTrZu0gW';

/** A form as browsers and the SDKs write it: CRLF line ends, one delimiter per part. */
function form(parts: Array<{ name: string; value: Buffer | string; filename?: string; quoted?: boolean }>): Buffer {
  const out: Buffer[] = [];
  for (const part of parts) {
    const name = part.quoted === false ? part.name : `"${part.name}"`;
    const file = part.filename === undefined ? '' : `; filename="${part.filename}"\r\nContent-Type: audio/mpeg`;
    out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name=${name}${file}\r\n\r\n`));
    out.push(Buffer.from(part.value));
    out.push(Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(out);
}

/** File bytes that look like the start of a delimiter more than once, and hold a CRLF pair. */
const TRICKY_FILE = Buffer.concat([
  Buffer.from([0xff, 0xfb, 0x90, 0x00]),
  Buffer.from(`\r\n--${BOUNDARY.slice(0, 10)}`),
  Buffer.from('\r\n\r\nname="model"\r\n'),
  Buffer.from(`\r\n-${BOUNDARY}`),
  Buffer.alloc(300, 0x2d),
]);

function read(body: Buffer, splits: number[]): MultipartFields {
  const fields = new MultipartFields(BOUNDARY);
  let at = 0;
  for (const split of [...splits, body.length]) {
    fields.push(body.subarray(at, split));
    at = split;
  }
  return fields;
}

describe('MultipartFields', () => {
  const body = form([
    { name: 'file', value: TRICKY_FILE, filename: 'a.mp3' },
    { name: 'model', value: 'whisper-1' },
    { name: 'prompt', value: 'Zürich, Ω — “quotes”' },
    { name: 'n', value: '2', quoted: false },
  ]);

  it('keeps the text fields and skips file contents, split at every byte', () => {
    for (let split = 0; split <= body.length; split++) {
      const fields = read(body, [split]);
      expect(fields.fields, `split at ${split}`).toEqual({
        model: 'whisper-1',
        prompt: 'Zürich, Ω — “quotes”',
        n: '2',
      });
      expect(fields.complete).toBe(true);
    }
  });

  it('fed one byte at a time', () => {
    const fields = read(
      body,
      Array.from({ length: body.length }, (_, i) => i),
    );
    expect(fields.fields.model).toBe('whisper-1');
    expect(fields.complete).toBe(true);
  });

  it('knows a field as soon as its part ends, before the rest of the body', () => {
    const fields = new MultipartFields(BOUNDARY);
    const end = body.indexOf(Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="prompt"`));
    // The value ends where the next delimiter begins: known once that delimiter is in.
    fields.push(body.subarray(0, end + `\r\n--${BOUNDARY}`.length));
    expect(fields.has('model')).toBe(true);
    expect(fields.has('prompt')).toBe(false);
    expect(fields.complete).toBe(false);
  });

  it('skips an over-long field but keeps the others', () => {
    const long = form([
      { name: 'prompt', value: 'x'.repeat(70 * 1024) },
      { name: 'model', value: 'gpt-4o-transcribe' },
    ]);
    expect(read(long, [1000, 40_000]).fields).toEqual({ model: 'gpt-4o-transcribe' });
  });

  it('a body it cannot follow leaves the fields unknown instead of guessing', () => {
    const broken = Buffer.from(`--${BOUNDARY}garbage\r\nContent-Disposition: form-data; name="model"\r\n\r\nx\r\n`);
    const fields = read(broken, []);
    expect(fields.fields).toEqual({});
    expect(fields.complete).toBe(false);
  });
});

describe('multipartBoundary', () => {
  it('reads quoted and bare boundaries', () => {
    expect(multipartBoundary(`multipart/form-data; boundary=${BOUNDARY}`)).toBe(BOUNDARY);
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b"')).toBe('a b');
  });

  it.each([
    [undefined, 'this route takes a multipart/form-data body'],
    ['application/json', 'this route takes a multipart/form-data body'],
    ['multipart/form-data', 'multipart/form-data needs a boundary'],
  ])('refuses %s naming the header', (type, message) => {
    let error: unknown;
    try {
      multipartBoundary(type);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PertokenError);
    expect(error).toMatchObject({ code: 'invalid_header', param: 'content-type', message });
  });
});
