import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore, type UsageEvent } from '../ledger/index.js';
import { CLI, spawnServe } from '../testing/child.js';

const run = promisify(execFile);
let dataDir: string;

async function pertoken(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, PERTOKEN_DATA_DIR: dataDir },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function event(id: string, tenant: string, model: string, cost: bigint | null, hour: number): UsageEvent {
  return {
    id,
    time: new Date(Date.UTC(2026, 10, 20, hour, 30)),
    origin: 'api',
    source: 'test',
    tenant,
    project: null,
    user: null,
    feature: null,
    key_id: null,
    trace_id: null,
    tags: {},
    provider: 'openai',
    requested_model: model,
    model,
    route: 'event',
    status: 'ok',
    http_status: null,
    streamed: false,
    latency_ms: null,
    ttft_ms: null,
    buckets: { input: 1000, output: 10 },
    usage_source: 'reported',
    cost_nano: cost,
    price_ref: null,
    raw_usage: null,
    usage_issues: [],
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pertoken-cli-'));
  const store = createSqliteStore({ path: join(dataDir, 'ledger.sqlite') });
  await store.migrate();
  await store.insertEvents([
    event('a1', 'acme', 'gpt-4o', 1_500_000_000n, 9),
    event('a2', 'acme', 'gpt-4o', 2_000_000_001n, 10),
    event('g1', 'globex', 'gpt-4o-mini', 7n, 10),
    event('g2', 'globex', 'mystery', null, 11),
  ]);
  await store.close();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('pertoken report', () => {
  const range = ['--from', '2026-11-20', '--to', '2026-11-21'];
  it('prints JSON in the API shape with exact money', async () => {
    const { code, stdout } = await pertoken('report', ...range, '--group-by', 'tenant', '--format', 'json');
    expect(code).toBe(0);
    const body = JSON.parse(stdout) as { rows: Array<Record<string, unknown>>; totals: Record<string, unknown> };
    expect(body.rows).toEqual([
      {
        tenant: 'acme',
        requests: 2,
        tokens: { input: 2000, output: 20 },
        cost_usd: '3.500000001',
        list_cost_usd: '3.500000001',
        adjustments_usd: '0.000000000',
        net_cost_usd: '3.500000001',
        unpriced_requests: 0,
        estimated_requests: 0,
        refused_requests: 0,
        cost_per_1m_tokens_usd: '1732.673267822',
        cost_per_request_usd: '1.750000000',
        cost_per_output_token_usd: '0.175000000',
      },
      {
        tenant: 'globex',
        requests: 2,
        tokens: { input: 2000, output: 20 },
        cost_usd: '0.000000007',
        list_cost_usd: '0.000000007',
        adjustments_usd: '0.000000000',
        net_cost_usd: '0.000000007',
        unpriced_requests: 1,
        estimated_requests: 0,
        refused_requests: 0,
        cost_per_1m_tokens_usd: '0.000003465',
        cost_per_request_usd: '0.000000004',
        cost_per_output_token_usd: '0.000000000',
      },
    ]);
    expect(body.totals.cost_usd).toBe('3.500000008');
  });

  it('prints a table with a total line and CSV with a header', async () => {
    const table = await pertoken('report', ...range, '--group-by', 'tenant,model');
    expect(table.stdout).toMatch(/^tenant\s+model\s+requests/m);
    expect(table.stdout).toMatch(/^TOTAL\s+4\s+0\s+4000\s+40\s+3\.500000008\s+0\.000000000\s+3\.500000008\s+1\s+0$/m);
    const csv = await pertoken('report', ...range, '--group-by', 'day', '--filter', 'tenant=acme', '--format', 'csv');
    expect(csv.stdout.trim().split('\n')).toEqual([
      'day,requests,refused,tok_input,tok_output,list_usd,adjustments_usd,cost_usd,unpriced,estimated',
      '2026-11-20,2,0,2000,20,3.500000001,0.000000000,3.500000001,0,0',
    ]);
  });

  it.each([
    [['report', '--group-by', 'colour'], /^error: group_by: unknown group_by key "colour"/],
    [['report', '--from', 'last week'], /^error: --from: /],
    [['report', '--format', 'xml'], /^error: --format: must be table, json or csv, got "xml"$/m],
    [['report', '--filter', 'tenant'], /^error: --filter: expected key=value/],
    [['report', '--url', 'http://127.0.0.1:9'], /^error: --url: cannot reach/],
  ])('%j fails with one line naming the field', async (args, message) => {
    const { code, stderr } = await pertoken(...args);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});

describe('pertoken prices', () => {
  it('shows effective prices and their source', async () => {
    const { code, stdout } = await pertoken('prices', 'gpt-4o-mini', '--provider', 'openai', '--format', 'json');
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as Array<{ model: string; prices: Record<string, string>; price_ref: string }>;
    expect(rows[0]).toMatchObject({
      model: 'gpt-4o-mini',
      prices: { input: '0.15', output: '0.6', cache_read: '0.075' },
    });
    expect(rows[0]?.price_ref).toMatch(/^genai-prices@0\.1\.8:openai\/gpt-4o-mini/);
  });
});

describe('pertoken serve in demo mode (what npm start runs)', () => {
  it('works offline with no config: a call is priced and reported', async () => {
    const server = await spawnServe(['--data-dir', dataDir]);
    try {
      const res = await request(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-anything' },
        body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 8, messages: [{ role: 'user', content: 'Hello' }] }),
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-pertoken-cost-usd']).toMatch(/^0\.\d{9}$/);
      await res.body.text();
      const costs = await request(`${server.url}/api/v1/costs?group_by=tenant`);
      const body = (await costs.body.json()) as { rows: Array<{ tenant: string; requests: number }> };
      expect(body.rows).toContainEqual(expect.objectContaining({ tenant: 'default', requests: 1 }));
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
  });
});
