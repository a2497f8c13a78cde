import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { createPriceBook, formatUsd } from '../pricing/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call, chat, eventually, redisAvailable, uniquePrefix } from '../testing/http.js';
import { worstCaseCost } from './worst-case.js';

/**
 * Three replicas in one process: separate ledgers (SQLite files), one governance database (the
 * shared PostgreSQL of a real deployment), budgets and rate limits in one Redis.
 */
const REDIS = process.env.PERTOKEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await redisAvailable(REDIS);
if (!redisUp && process.env.CI === 'true')
  throw new Error(`Redis is required under CI and is not reachable at ${REDIS}`);
if (!redisUp) console.warn(`SKIPPED: replica tests need Redis at ${REDIS}`);

describe.skipIf(!redisUp)('three replicas sharing Redis (needs Redis at 127.0.0.1:6379)', () => {
  let demo: DemoUpstream;
  let dir: string;
  let replicas: GovernedHarness[];

  beforeAll(async () => {
    demo = await startDemoUpstream({ ttftMs: 2, itlMs: 0, seed: 21, maxOutputTokens: 100_000 });
    dir = mkdtempSync(join(tmpdir(), 'pertoken-replicas-'));
    const keyPrefix = uniquePrefix();
    const governanceDb = join(dir, 'governance.sqlite');
    replicas = [];
    // One at a time: the first creates the shared governance tables.
    for (let i = 0; i < 3; i++)
      replicas.push(
        await startHarness({
          governance: true,
          adminToken: ADMIN,
          upstream: demo.url,
          redisUrl: REDIS,
          keyPrefix,
          governanceDb,
        }),
      );
  });
  afterAll(async () => {
    for (const r of replicas ?? []) await r.close();
    await demo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function spend(tenant: string): Promise<bigint> {
    let total = 0n;
    for (const r of replicas) {
      await r.store.flush();
      const rows = await r.store.queryCosts({
        from: new Date(0),
        to: new Date(Date.now() + 86_400_000),
        groupBy: [],
        filter: { tenant },
      });
      total += rows.reduce((n, row) => n + row.cost_nano, 0n);
    }
    return total;
  }

  it('holds 1,000 concurrent requests spread over three replicas to $1.00 plus one request', async () => {
    expect((await call(replicas[0]!.url, 'POST', '/api/v1/admin/tenants', { id: 'shared' })).status).toBe(201);
    expect(
      (
        await call(replicas[0]!.url, 'POST', '/api/v1/admin/budgets', {
          id: 'shared-dollar',
          scope: { tenant: 'shared' },
          period: 'total',
          limit_usd: '1.00',
        })
      ).status,
    ).toBe(201);
    // Every replica sees the new budget (signalled through Redis).
    const sees = async (url: string): Promise<boolean> =>
      ((await call(url, 'GET', '/api/v1/budgets')).json.budgets as Array<{ id: string }>).some(
        (b) => b.id === 'shared-dollar',
      );
    for (const r of replicas) expect(await eventually(() => sees(r.url), 2000)).toBe(true);
    const agent = new Agent({ connections: 400 });
    const body = JSON.stringify({
      model: 'gpt-4o',
      max_tokens: 400,
      messages: [{ role: 'user', content: 'Write about budgets' }],
    });
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const res = await request(`${replicas[i % 3]!.url}/v1/chat/completions`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', 'x-pertoken-tenant': 'shared' },
          body,
        });
        const json = (await res.body.json()) as { error?: { message: string } };
        return { status: res.statusCode, message: json.error?.message ?? null, replica: i % 3 };
      }),
    );
    await agent.close();
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 402);
    expect(ok.length + refused.length).toBe(1000);
    for (const r of refused) expect(r.message).toMatch(/^budget "shared-dollar" is exhausted/);
    // All three replicas served some of them.
    expect(new Set(ok.map((r) => r.replica)).size).toBe(3);

    const maxCost = worstCaseCost(createPriceBook(), {
      provider: 'openai',
      model: 'gpt-4o',
      at: new Date(),
      inputTokens: 64,
      outputTokens: 400,
      hasNonTextInput: false,
    }) as bigint;
    const spent = await spend('shared');
    expect(spent).toBeLessThanOrEqual(1_000_000_000n + maxCost);
    expect(spent).toBeGreaterThan(1_000_000_000n - 2n * maxCost);
    // The shared counter equals the sum of the three ledgers, to the nano-dollar.
    const status = await call(replicas[2]!.url, 'GET', '/api/v1/budgets');
    expect((status.json.budgets as Array<Record<string, unknown>>).find((b) => b.id === 'shared-dollar')).toMatchObject(
      { spent_usd: formatUsd(spent), reserved_usd: '0.000000000' },
    );
  });

  it('keeps admitted tokens per minute within the TPM plus one request across replicas', async () => {
    const admin = replicas[0]!.url;
    await call(admin, 'POST', '/api/v1/admin/tenants', { id: 'tpm-co', tpm: 5_000 });
    for (const r of replicas)
      expect(
        await eventually(
          async () =>
            (await chat(r.url, null, 'gpt-4o-mini', { max_tokens: 1 }, { 'x-pertoken-tenant': 'tpm-co' })).headers[
              'x-ratelimit-limit-tokens'
            ] === '5000',
          2000,
        ),
      ).toBe(true);
    const agent = new Agent({ connections: 150 });
    const results = await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const res = await request(`${replicas[i % 3]!.url}/v1/chat/completions`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', 'x-pertoken-tenant': 'tpm-co' },
          body: JSON.stringify({
            model: 'gpt-4o-mini',
            max_tokens: 200,
            messages: [{ role: 'user', content: 'Count the tokens' }],
          }),
        });
        await res.body.dump();
        return { status: res.statusCode, id: String(res.headers['x-pertoken-request-id']) };
      }),
    );
    await agent.close();
    const admitted = results.filter((r) => r.status === 200);
    expect(results.filter((r) => r.status === 429).length).toBe(150 - admitted.length);
    expect(admitted.length).toBeGreaterThan(5);
    let tokens = 0;
    let largest = 0;
    for (const r of replicas) {
      await r.store.flush();
      const page = await r.store.listEvents({ filter: { tenant: 'tpm-co' }, limit: 1000 });
      for (const e of page.events) {
        const n = (e.buckets.input ?? 0) + (e.buckets.output ?? 0);
        tokens += n;
        largest = Math.max(largest, n);
      }
    }
    // The warm-up calls above are in the same minute and count too.
    expect(tokens).toBeLessThanOrEqual(5_000 + largest);
    expect(tokens).toBeGreaterThan(5_000 - 2 * 220);
  });

  // Last: once a key exists in the shared store, every replica requires keys.
  it('revocation on one replica reaches every replica within a second', async () => {
    const admin = replicas[0]!.url;
    await call(admin, 'POST', '/api/v1/admin/tenants', { id: 'rev-co' });
    const { id, key } = (await call(admin, 'POST', '/api/v1/admin/keys', { tenant: 'rev-co' })).json as {
      id: string;
      key: string;
    };
    for (const r of replicas)
      expect(await eventually(async () => (await chat(r.url, key)).status === 200, 2000)).toBe(true);
    expect((await call(admin, 'DELETE', `/api/v1/admin/keys/${id}`)).status).toBe(200);
    const revokedAt = Date.now();
    const refusedEverywhere = await eventually(
      async () => {
        const statuses = await Promise.all(replicas.map(async (r) => (await chat(r.url, key)).status));
        return statuses.every((s) => s === 401);
      },
      1000 - (Date.now() - revokedAt),
      10,
    );
    expect(refusedEverywhere).toBe(true);
  });
});
