/**
 * Where each pull stopped: the last completed UTC day fetched and imported, per account and
 * report, in `<data dir>/billing-pull.json` (written atomically: temp file + rename), so a rerun
 * continues from the next day instead of refetching. A day still running is never recorded: the
 * provider is still adding to it, so the next pull fetches it again (the import replaces it).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PertokenError } from '../../errors.js';

export const PULL_STATE_FILE = 'billing-pull.json';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export class PullState {
  readonly #path: string;
  readonly #dir: string;
  readonly #done: Map<string, string>;

  private constructor(dir: string, done: Map<string, string>) {
    this.#dir = dir;
    this.#path = join(dir, PULL_STATE_FILE);
    this.#done = done;
  }

  static async load(dir: string): Promise<PullState> {
    const path = join(dir, PULL_STATE_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new PullState(dir, new Map());
      throw new PertokenError('config_invalid', `cannot read ${path}: ${String(err)}`, { param: path });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PertokenError('config_invalid', `${path} is not valid JSON; delete it to pull again from --from`, {
        param: path,
      });
    }
    const done = (json as { done?: unknown } | null)?.done;
    const entries = typeof done === 'object' && done !== null ? Object.entries(done) : [];
    const valid = entries.filter((e): e is [string, string] => typeof e[1] === 'string' && DAY.test(e[1]));
    return new PullState(dir, new Map(valid));
  }

  /** UTC midnight (ms) after the last completed day of `key`, or null when nothing was pulled. */
  resumeAt(key: string): number | null {
    const day = this.#done.get(key);
    return day === undefined ? null : Date.parse(`${day}T00:00:00Z`) + 86_400_000;
  }

  /** Records days up to `endMs` (exclusive, a UTC midnight) as done; never moves back. */
  async complete(key: string, endMs: number): Promise<void> {
    const resume = this.resumeAt(key);
    if (resume !== null && endMs <= resume) return;
    this.#done.set(key, new Date(endMs - 86_400_000).toISOString().slice(0, 10));
    await mkdir(this.#dir, { recursive: true });
    const tmp = `${this.#path}.${process.pid}.tmp`;
    const done = Object.fromEntries([...this.#done].sort(([a], [b]) => a.localeCompare(b)));
    await writeFile(tmp, JSON.stringify({ version: 1, done }, null, 2) + '\n');
    await rename(tmp, this.#path);
  }
}
