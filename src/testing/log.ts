import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A pino logger writing to memory, and the lines it wrote, parsed (test-only). */
export interface MemoryLog {
  log: Logger;
  /** Every line so far, as pino wrote it (level as a number, `msg`, and the bound fields). */
  lines(): Array<Record<string, unknown>>;
  /** The raw text, to check that something never appears anywhere in it. */
  text(): string;
}

export function memoryLog(level: pino.LevelWithSilent = 'debug'): MemoryLog {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = pino({ level }, stream);
  const text = (): string => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
