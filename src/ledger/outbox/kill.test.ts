import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLedger } from '../testing/compile.js';
import { createTestSchema, postgresSkipReason, TEST_DATABASE_URL } from '../testing/dialects.js';
import { countRows, tempDir } from '../testing/fixtures.js';
import { ledgerTruth, waitFor } from '../testing/outbox.js';
import { startTcpProxy, type TcpProxy } from '../../testing/tcp-proxy.js';
import type { InterruptedPricer } from '../types.js';
import { createReplicatedStore } from './replicated-store.js';

/**
 * A replica process (the compiled ledger) settles like a gateway — 20 requests reserved per round,
 * 15 settled, 5 left in flight — ships to PostgreSQL, then PostgreSQL is cut off by the proxy so
 * its outbox builds a backlog, and it is killed with SIGKILL. The restarted replica must ship the
 * whole backlog plus its recovered in-flight requests: every acknowledged event exactly once.
 */

const skip = await postgresSkipReason();

const CHILD = `
import { createReplicatedStore, newEventId } from './dist/ledger/index.js';
const [outboxPath, postgresUrl, schema] = process.argv.slice(2);
const store = createReplicatedStore({ outboxPath, postgresUrl, schema, poolSize: 2, connectTimeoutMs: 300,
  queryTimeoutMs: 1000, retryBaseDelayMs: 20, retryMaxDelayMs: 200, shipBatchSize: 100 });
await store.migrate();
setInterval(() => {
  const s = store.stats();
  process.stdout.write('stats ' + JSON.stringify({ backlog: s.backlog, spooling: s.spooling, shipped: s.shippedEvents }) + '\\n');
}, 50);
const base = { source: 'openai', tenant: 'acme', project: 'p', user: null, feature: 'chat', key_id: 'k',
  trace_id: null, tags: {}, provider: 'openai', requested_model: 'gpt-4o', route: '/v1/chat/completions',
  streamed: false };
for (;;) {
  const ids = Array.from({ length: 20 }, () => newEventId());
  await Promise.all(ids.map((id) => store.reserve({ ...base, id, time: new Date(), estimated_input_tokens: 100 })));
  await Promise.all(ids.slice(0, 15).map(async (id) => {
    await store.settle({ ...base, id, time: new Date(), origin: 'gateway', model: 'gpt-4o', status: 'ok',
      http_status: 200, latency_ms: 5, ttft_ms: null, buckets: { input: 100, output: 10 },
      usage_source: 'provider', cost_nano: 12345n, price_ref: 'test', raw_usage: null, usage_issues: [] });
    process.stdout.write('settled ' + id + '\\n');
  }));
  await new Promise((r) => setTimeout(r, 2));
}
`;

const pricer: InterruptedPricer = (r) => ({
  buckets: { input: r.estimated_input_tokens },
  cost_nano: 1000n,
  price_ref: 'test-interrupted',
});

describe.skipIf(skip !== null)(
  `replica killed with SIGKILL while its outbox holds a backlog${skip ? ` — ${skip}` : ''}`,
  () => {
    let work: { dir: string; cleanup: () => void };
    let schema: string;
    let admin: pg.Client;
    let dropSchema: () => Promise<void>;
    let proxy: TcpProxy;
    let child: ChildProcess | undefined;

    beforeAll(async () => {
      work = tempDir('pertoken-outbox-kill-');
      compileLedger(work.dir);
      writeFileSync(join(work.dir, 'child.mjs'), CHILD);
      ({ schema, admin, drop: dropSchema } = await createTestSchema());
      proxy = await startTcpProxy(TEST_DATABASE_URL);
    });

    afterAll(async () => {
      if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await proxy?.close();
      await dropSchema?.();
      work?.cleanup();
    });

    it('the restarted replica ships everything, nothing doubled', async () => {
      const outbox = join(work.dir, 'outbox.db');
      const proc = spawn(process.execPath, [join(work.dir, 'child.mjs'), outbox, proxy.url, schema], {
        cwd: work.dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let stderr = '';
      proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // 'close', not 'exit': every line the replica wrote before dying has been read by then.
      const exited = new Promise<NodeJS.Signals | null>((res) => proc.on('close', (_code, signal) => res(signal)));
      let died = false;
      void exited.then(() => (died = true));

      const acknowledged = new Set<string>();
      let last = { backlog: 0, spooling: false, shipped: 0 };
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        if (line.startsWith('settled ')) acknowledged.add(line.slice('settled '.length));
        else if (line.startsWith('stats ')) last = JSON.parse(line.slice('stats '.length)) as typeof last;
      });
      const alive = (condition: () => boolean) => (): boolean => {
        if (died) throw new Error(`the replica exited early: ${stderr}`);
        return condition();
      };

      await waitFor(
        'shipping before the cut',
        alive(() => last.shipped >= 300),
      );
      await proxy.setMode('refuse');
      const ackedAtCut = acknowledged.size;
      await waitFor(
        'a backlog in the outbox',
        alive(() => last.spooling && last.backlog >= 600),
      );
      proc.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(acknowledged.size).toBeGreaterThan(ackedAtCut + 500);
      const truthAtKill = await ledgerTruth(admin, schema);
      expect(truthAtKill.events).toBeLessThan(acknowledged.size); // the backlog really was local only

      await proxy.setMode('forward');
      const restarted = createReplicatedStore({ outboxPath: outbox, postgresUrl: proxy.url, schema });
      try {
        await restarted.migrate();
        expect(restarted.stats().backlog).toBeGreaterThanOrEqual(600);
        const recovered = await restarted.recoverInterrupted(pricer);
        expect(recovered).toBeGreaterThan(0);
        expect(await restarted.drain({ timeoutMs: 30_000 })).toEqual({ drained: true, remaining: 0 });
        expect(countRows(outbox, 'events')).toBe(0);
        expect(countRows(outbox, 'reservations')).toBe(0);

        const truth = await ledgerTruth(admin, schema);
        expect([...acknowledged].filter((id) => !truth.ids.has(id))).toEqual([]);
        // Nothing doubled: one rollup increment per stored event, raw and rollup sums agree.
        expect(truth.rollupRequests).toBe(BigInt(truth.events));
        expect(truth.rollupCost).toBe(truth.cost);
        expect(truth.rollupTokens).toBe(truth.tokens);
        // Beyond the acknowledged: the recovered in-flight requests, plus settles that committed
        // in the instant before the kill but were never reported (at most one group-commit batch).
        const { rows } = await admin.query<{ status: string; n: string }>(
          `select status, count(*) as n from ${schema}.events group by status`,
        );
        const byStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
        expect(byStatus.interrupted).toBe(recovered);
        const unreported = (byStatus.ok ?? 0) - acknowledged.size;
        expect(unreported).toBeGreaterThanOrEqual(0);
        expect(unreported).toBeLessThanOrEqual(15);
        expect(truth.cost).toBe(BigInt(byStatus.ok ?? 0) * 12345n + BigInt(recovered) * 1000n);
      } finally {
        await restarted.close();
      }
    });
  },
);
