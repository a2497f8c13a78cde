import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLedger } from '../testing/compile.js';
import { countRows, tempDir } from '../testing/fixtures.js';
import { createSqliteStore } from './store.js';

/**
 * kill -9 durability of the real store code: the ledger folder is compiled with tsc into a temp
 * dir (no tsx here), a child process writes through it, reports each settle() that resolved, and
 * is SIGKILLed mid-stream. The reopened file must hold every reported event, count each once,
 * and recovery must settle the requests that were in flight.
 */

const CHILD = `
import { createSqliteStore, newEventId } from './dist/ledger/index.js';
const store = createSqliteStore({ path: process.argv[2] });
await store.migrate();
const base = { source: 'openai', tenant: 'acme', project: 'p', user: null, feature: 'chat', key_id: 'k',
  trace_id: null, tags: {}, provider: 'openai', requested_model: 'gpt-4o', route: '/v1/chat/completions',
  streamed: false };
process.stdout.write('ready\\n');
for (;;) {
  const ids = Array.from({ length: 20 }, () => newEventId());
  await Promise.all(ids.map((id) => store.reserve({ ...base, id, time: new Date(), estimated_input_tokens: 100 })));
  // 15 requests complete; 5 stay in flight forever (their reservations stay open).
  await Promise.all(ids.slice(0, 15).map(async (id) => {
    await store.settle({ ...base, id, time: new Date(), origin: 'gateway', model: 'gpt-4o', status: 'ok',
      http_status: 200, latency_ms: 5, ttft_ms: null, buckets: { input: 100, output: 10 },
      usage_source: 'provider', cost_nano: 12345n, price_ref: 'test', raw_usage: null, usage_issues: [] });
    process.stdout.write('settled ' + id + '\\n');
  }));
}
`;

let work: { dir: string; cleanup: () => void };
let child: ChildProcess | undefined;

beforeAll(() => {
  work = tempDir('pertoken-kill-');
  compileLedger(work.dir);
  writeFileSync(join(work.dir, 'child.mjs'), CHILD);
});

afterAll(() => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  work.cleanup();
});

describe('SQLite ledger under kill -9', () => {
  it('keeps every event whose settle resolved, counts each once, and recovers in-flight ones', async () => {
    const path = join(work.dir, 'ledger.db');
    const proc = spawn(process.execPath, [join(work.dir, 'child.mjs'), path], {
      cwd: work.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    const acknowledged: string[] = [];
    const exited = new Promise<NodeJS.Signals | null>((res) => proc.on('exit', (_code, signal) => res(signal)));
    await new Promise<void>((res, rej) => {
      const lines = createInterface({ input: proc.stdout! });
      lines.on('line', (line) => {
        if (!line.startsWith('settled ')) return;
        acknowledged.push(line.slice('settled '.length));
        if (acknowledged.length === 600) {
          proc.kill('SIGKILL');
          res();
        }
      });
      proc.on('exit', () => rej(new Error(`child exited early: ${stderr}`)));
    });
    expect(await exited).toBe('SIGKILL');

    const store = createSqliteStore({ path });
    try {
      await store.migrate();
      for (const id of acknowledged) expect(await store.getEvent(id), id).toMatchObject({ id, status: 'ok' });

      const openBefore = countRows(path, 'reservations');
      expect(openBefore).toBeGreaterThanOrEqual(5 * Math.floor(600 / 15));
      const recovered = await store.recoverInterrupted((r) => ({
        buckets: { input: r.estimated_input_tokens },
        cost_nano: 1n,
        price_ref: 'estimate',
      }));
      expect(recovered).toBe(openBefore);
      expect(countRows(path, 'reservations')).toBe(0);

      const events = countRows(path, 'events');
      const [total] = await store.queryCosts({
        from: new Date(0),
        to: new Date(Date.now() + 86_400_000),
        groupBy: [],
        filter: {},
      });
      expect(total?.requests).toBe(events);
      expect(total?.estimated_requests).toBe(recovered);
      expect(total?.cost_nano).toBe(BigInt(events - recovered) * 12345n + BigInt(recovered));
    } finally {
      await store.close();
    }
  });
});
