import { Writable } from 'node:stream';

/** Output streams that keep what is written: a CLI command's `io`, run in-process in a test. */
export interface MemoryIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      done();
    },
  });
  return { stream, text: () => text };
}

export function memoryIo(): MemoryIo {
  const out = sink();
  const err = sink();
  return { stdout: out.stream, stderr: err.stream, out: out.text, err: err.text };
}
