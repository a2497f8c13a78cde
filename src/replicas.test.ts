import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisSkipReason, TEST_REDIS_URL } from './counters/testing/redis.js';
import { startDemoUpstream, type DemoUpstream } from './demo/index.js';
import { createPostgresStore } from './ledger/index.js';
import { createTestSchema, postgresSkipReason, TEST_DATABASE_URL } from './ledger/testing/dialects.js';
import { spawnServe, writeUpstreamConfig, type ChildServer } from './testing/child.js';

/**
 * Three `pertoken serve` processes on one PostgreSQL (each through its own local outbox) and one
 * Redis, under concurrent streaming and non-streaming load: every request a client saw complete
 * is in the shared ledger exactly once, and the rollups agree with the events.
 */
const skip = (await postgresSkipReason()) ?? (await redisSkipReason());
let demo: DemoUpstream;
let schema: Awaited<ReturnType<typeof createTestSchema>> | null = null;
const dirs: string[] = [];

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 5, itlMs: 2, seed: 9 });
  if (!skip) schema = await createTestSchema();
});
afterAll(async () => {
  await demo.close();
  await schema?.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip !== null)('three replicas on PostgreSQL + Redis', () => {
  it('every completed request appears exactly once', async () => {
    const replicas: ChildServer[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), `pertoken-replica-${i}-`));
      dirs.push(dir);
      replicas.push(
        await spawnServe(['--config', writeUpstreamConfig(dir, demo.url), '--data-dir', dir], {
          PERTOKEN_DATABASE_URL: TEST_DATABASE_URL,
          PERTOKEN_DATABASE_SCHEMA: schema?.schema ?? '',
          PERTOKEN_REDIS_URL: TEST_REDIS_URL,
        }),
      );
    }
    const pools = replicas.map((r) => new Pool(r.url, { connections: 50 }));
    const calls = Array.from({ length: 450 }, async (_, i) => {
      const stream = i % 2 === 0;
      const res = await pools[i % 3]!.request({
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-pertoken-tenant': `t${i % 7}` },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream,
          max_tokens: 20,
          messages: [{ role: 'user', content: `request ${i}` }],
        }),
      });
      const text = await res.body.text();
      expect(res.statusCode).toBe(200);
      return {
        id: String(res.headers['x-pertoken-request-id']),
        complete: stream ? text.includes('[DONE]') : text.includes('"usage"'),
      };
    });
    const outcomes = await Promise.all(calls);
    expect(outcomes.every((o) => o.complete)).toBe(true);

    // SIGTERM drains each replica's outbox into PostgreSQL before it exits.
    for (const r of replicas) r.proc.kill('SIGTERM');
    expect(await Promise.all(replicas.map((r) => r.exited))).toEqual([0, 0, 0]);
    await Promise.all(pools.map((p) => p.close()));

    const shared = createPostgresStore({ url: TEST_DATABASE_URL, schema: schema?.schema ?? '' });
    try {
      const ids = new Set<string>();
      let cursor: string | undefined;
      do {
        const page = await shared.listEvents({ filter: {}, limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const e of page.events) {
          expect(ids.has(e.id)).toBe(false);
          ids.add(e.id);
        }
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      expect(ids.size).toBe(450);
      for (const o of outcomes) expect(ids.has(o.id)).toBe(true);
      const totals = await shared.queryCosts({
        from: new Date(Date.now() - 3_600_000),
        to: new Date(Date.now() + 3_600_000),
        groupBy: ['tenant'],
        filter: {},
      });
      expect(totals.reduce((n, r) => n + r.requests, 0)).toBe(450);
      expect(totals.every((r) => r.tokens.output === r.requests * 20)).toBe(true);
    } finally {
      await shared.close();
    }
  });
});
