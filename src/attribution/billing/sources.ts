/**
 * Where bill files come from: paths given to `pertoken import` (a directory stands for its files,
 * in name order, so pages 1..n import as one file would), or one request body.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { invalidInput } from '../../errors.js';
import type { BillingFormat } from './rows.js';

export interface BillingSource {
  /** Shown in rejections and stored with each row. */
  readonly name: string;
  /** Size in bytes when known (progress). */
  readonly bytes: number | null;
  chunks(): AsyncIterable<string>;
}

export function textSource(name: string, text: string): BillingSource {
  return {
    name,
    bytes: Buffer.byteLength(text),
    async *chunks() {
      yield text;
    },
  };
}

function fileSource(path: string, bytes: number): BillingSource {
  return { name: path, bytes, chunks: () => createReadStream(path, { encoding: 'utf8' }) };
}

/** Files and directories -> sources; a directory contributes its .json (or, for focus, .csv) files. */
export async function fileSources(
  paths: readonly string[],
  format: BillingFormat,
  param: string,
): Promise<BillingSource[]> {
  if (paths.length === 0) throw invalidInput(param, 'name at least one file or directory');
  const ext = format === 'focus' ? '.csv' : '.json';
  const out: BillingSource[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (info === null) throw invalidInput(param, `no such file or directory: ${path}`);
    if (!info.isDirectory()) {
      out.push(fileSource(path, info.size));
      continue;
    }
    const names = (await readdir(path)).filter((n) => !n.startsWith('.') && extname(n).toLowerCase() === ext).sort();
    for (const name of names) {
      const file = join(path, name);
      const s = await stat(file);
      if (s.isFile()) out.push(fileSource(file, s.size));
    }
  }
  return out;
}
