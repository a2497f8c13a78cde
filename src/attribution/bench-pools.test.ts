import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { savePool, type GpuPool } from '../selfhosted/index.js';
import { startHarness, type Harness } from '../testing/harness.js';
import { call } from '../testing/http.js';
import type { PoolReportJson } from './index.js';

/** A pool `pertoken bench --save-pool acme-vllm` stored: 2 GPUs at $2.50/h, 1,000 out + 4,000 in tokens/s. */
const MEASURED: GpuPool = {
  name: 'acme-vllm',
  model: 'llama-3.1-8b',
  gpu: 'h100-sxm',
  gpus: 2,
  gpu_price_usd_per_hour: '2.5',
  output_tokens_per_s: '1000',
  input_tokens_per_s: '4000',
  input_cost_weight: '0.25',
  measured_at_load: 'concurrency 16',
  measured_at: '2026-10-01T00:00:00.000Z',
  source: 'pertoken bench',
};

let dir: string;
let gw: Harness;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-bench-pool-'));
  await savePool(dir, MEASURED);
  gw = await startHarness({ upstream: 'http://127.0.0.1:9', dataDir: dir });
});
afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pools saved by `pertoken bench --save-pool`, as serve loads them', () => {
  it('prices the pool’s own tokens from the measurement, exactly', async () => {
    // $/s = 2 × 2.5 / 3600; per output token: $/s / (1000 + 0.25 × 4000) = 0.694444444 per 1M; input a quarter.
    const reply = await call(gw.url, 'POST', '/v1/usage/events', [
      {
        id: 'bench-1',
        time: '2026-10-02T00:00:00Z',
        source: 'test',
        tenant: 'acme',
        provider: 'acme-vllm',
        model: 'llama-3.1-8b',
        tokens: { input: 1_000_000, output: 1_000_000 },
      },
    ]);
    expect(reply.json.accepted).toEqual(['bench-1']);
    const event = (await call(gw.url, 'GET', '/api/v1/events/bench-1')).json as { cost_usd: string; price_ref: string };
    expect(event.cost_usd).toBe('0.868055555');
    expect(event.price_ref).toContain('acme-vllm');
  });

  it('costs the pool from the day it was measured, its capacity the measured throughput', async () => {
    const report = await call(gw.url, 'GET', '/api/v1/pools?from=2026-10-02&to=2026-10-03');
    const pool = (report.json.pools as PoolReportJson[]).find((p) => p.name === 'acme-vllm')!;
    // 2 GPUs × 24 h × $2.50
    expect(pool).toMatchObject({
      gpu: 'h100-sxm',
      gpu_hours: '48.000000',
      cost_usd: '120.000000000',
      idle_mode: 'line',
    });
    // Work 1M in + 4 × 1M out = 5M units; capacity (4000 + 4 × 1000) × 86,400 s = 691.2M units.
    expect(pool.busy_usd).toBe('0.868055556');
    expect(pool.events_cost_usd).toBe('0.868055555');
  });
});
