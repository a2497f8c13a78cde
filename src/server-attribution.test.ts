import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChargebackJson, PoolReportJson } from './attribution/index.js';
import { parseConfig } from './config/index.js';
import { parseUsd } from './money.js';
import { startPertoken, type RunningServer } from './server.js';

/**
 * What a new user does: declare a GPU pool, a shared cost and a plan, run traffic through the demo
 * upstream (its open-weight models stand in for a self-hosted vLLM, provider demo-vllm), and read a
 * statement and the pools report with the engine's live figures.
 */
let dir: string;
let server: RunningServer;
const month = new Date().toISOString().slice(0, 7);
const monthStart = `${month}-01`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-serve-'));
  const config = parseConfig({
    demo: { ttft_ms: 1, itl_ms: 0 },
    gpu_pools: [
      {
        name: 'demo-pool',
        gpu: 'h100-sxm',
        gpus: 2,
        rates: [{ from: monthStart, usd_per_gpu_hour: '2.99', pricing: 'reserved' }],
        serves: ['demo-vllm'],
        capacity: { output_tokens_per_s: 5000, input_tokens_per_s: 20000 },
        idle: 'weighted',
        // In demo mode the simulator is the engine: its /metrics replaces these URLs.
        metrics: { urls: ['http://127.0.0.1:9/metrics'], interval_ms: 1000, timeout_ms: 1000 },
      },
    ],
    shared_costs: [{ name: 'observability', usd: 300, from: monthStart, allocate: 'even' }],
    plans: [{ tenant: 'acme', markup_pct: 25 }],
  });
  server = await startPertoken({
    config,
    env: {},
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    demo: true,
    log: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await server.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown, tenant: string): Promise<number> {
  const res = await request(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-demo', 'x-pertoken-tenant': tenant },
    body: JSON.stringify(body),
  });
  await res.body.text();
  return res.statusCode;
}

async function get<T>(path: string): Promise<T> {
  const res = await request(`${server.url}${path}`);
  return (await res.body.json()) as T;
}

describe('chargeback through `pertoken serve` in demo mode', () => {
  it('costs self-hosted traffic on the pool and vendor traffic at its price, exactly', async () => {
    const chat = (model: string) => ({ model, max_tokens: 40, messages: [{ role: 'user', content: 'Count to ten.' }] });
    expect(await post('/v1/chat/completions', chat('llama-3.1-8b'), 'acme')).toBe(200);
    expect(await post('/v1/chat/completions', chat('llama-3.1-8b'), 'beta')).toBe(200);
    expect(await post('/v1/chat/completions', chat('gpt-4o-mini'), 'beta')).toBe(200);

    const s = await get<ChargebackJson>(`/api/v1/chargeback?period=${month}`);
    expect(s.tenants.map((t) => t.tenant)).toEqual(['acme', 'beta']);
    const acme = s.tenants.find((t) => t.tenant === 'acme')!;
    expect(parseUsd(acme.selfhosted_usd)).toBeGreaterThan(0n);
    expect(parseUsd(acme.idle_usd)).toBeGreaterThan(0n);
    // Month to date: the monthly $300 prorated to now, shared evenly by the two tenants.
    const beta0 = s.tenants.find((t) => t.tenant === 'beta')!;
    expect(parseUsd(acme.shared_usd) + parseUsd(beta0.shared_usd)).toBe(parseUsd(s.inputs!.shared_usd));
    expect(parseUsd(acme.shared_usd) - parseUsd(beta0.shared_usd)).toBeLessThanOrEqual(1n);
    expect(parseUsd(s.inputs!.shared_usd)).toBeLessThanOrEqual(parseUsd('300'));
    expect(acme.basis).toBe('plan');
    expect(acme.lines.some((l) => l.kind === 'selfhosted' && l.provider === 'demo-vllm')).toBe(true);
    const beta = s.tenants.find((t) => t.tenant === 'beta')!;
    expect(parseUsd(beta.vendor_usd)).toBeGreaterThan(0n);
    const carried = s.tenants.reduce((sum, t) => sum + parseUsd(t.cost_usd), 0n);
    expect(carried + parseUsd(s.unallocated!.idle_usd) + parseUsd(s.unallocated!.shared_usd)).toBe(
      parseUsd(s.inputs!.total_usd),
    );
  });

  it('scrapes the demo engine’s vLLM metrics and shows them live in the pools report', async () => {
    // Demo mode points the pool at the simulator's /metrics; two scrapes a second apart are needed.
    let pool:
      (PoolReportJson & { live: { urls: Array<{ ok: boolean }>; generation_tokens_per_s: number } | null }) | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      const report = await get<{ pools: Array<NonNullable<typeof pool>> }>(`/api/v1/pools?from=${monthStart}`);
      pool = report.pools[0];
      if (pool?.live) break;
      await post(
        '/v1/chat/completions',
        { model: 'llama-3.1-8b', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] },
        'acme',
      );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(pool?.name).toBe('demo-pool');
    expect(pool?.live).not.toBeNull();
    expect(pool!.live!.urls.every((u) => u.ok)).toBe(true);
    expect(pool!.live!.generation_tokens_per_s).toBeGreaterThanOrEqual(0);
  });
});
