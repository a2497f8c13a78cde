import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullBilling } from './attribution/billing/index.js';
import type { ReconciliationJson } from './attribution/reconcile/index.js';
import { parseConfig, type BillingAccountConfig } from './config/index.js';
import { DEMO_PROJECT_ID } from './demo/index.js';
import { startPertoken, type RunningServer } from './server.js';

/**
 * The whole billing loop offline: traffic through the gateway to the demo upstream, the demo's
 * Admin API reports of what it served pulled back as the provider's bill, and reconciliation of
 * the two. Both sides price the same tokens at the same list prices, so every row must match.
 */
let dir: string;
let server: RunningServer;
const ADMIN_KEY = 'sk-admin-demo';
const accounts: BillingAccountConfig[] = [
  { provider: 'openai', project_id: DEMO_PROJECT_ID, tenant: 'acme' },
  { provider: 'anthropic', workspace_id: null, tenant: 'globex' },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-billing-'));
  server = await startPertoken({
    config: parseConfig({ demo: { ttft_ms: 1, itl_ms: 0 }, billing_accounts: accounts }),
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

async function post(path: string, body: unknown, tenant: string): Promise<void> {
  const res = await request(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer sk-demo',
      'x-api-key': 'sk-demo',
      'anthropic-version': '2023-06-01',
      'x-pertoken-tenant': tenant,
    },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  expect(res.statusCode, text).toBe(200);
}

describe('billing pull and reconciliation against the demo upstream', () => {
  it('reconciles what the gateway metered with what the demo billed, every row a match', async () => {
    // Two days from today's midnight, so traffic that crosses midnight UTC is still all compared.
    const today = new Date(new Date().toISOString().slice(0, 10));
    const end = new Date(today.getTime() + 2 * 86_400_000);
    const prompt = 'Summarise the causes of the French revolution in three sentences.';
    for (const model of ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-nano']) {
      await post(
        '/v1/chat/completions',
        { model, max_tokens: 40, messages: [{ role: 'user', content: prompt }] },
        'acme',
      );
      await post(
        '/v1/chat/completions',
        { model, max_tokens: 30, stream: true, messages: [{ role: 'user', content: prompt }] },
        'acme',
      );
    }
    for (const model of ['claude-3-5-haiku-latest', 'claude-sonnet-4-0']) {
      await post('/v1/messages', { model, max_tokens: 40, messages: [{ role: 'user', content: prompt }] }, 'globex');
      await post(
        '/v1/messages',
        { model, max_tokens: 30, stream: true, messages: [{ role: 'user', content: prompt }] },
        'globex',
      );
    }

    // Prompt caching: a long prefix sent twice reads from the cache the second time (OpenAI
    // automatically, Anthropic at its cache_control breakpoints, 5m and 1h writes).
    const long = Array.from({ length: 1500 }, (_, i) => `clause ${i} of the charter applies.`).join(' ');
    for (let i = 0; i < 2; i++) {
      await post(
        '/v1/chat/completions',
        {
          model: 'gpt-4o-mini',
          max_tokens: 20,
          messages: [
            { role: 'system', content: long },
            { role: 'user', content: prompt },
          ],
        },
        'acme',
      );
      for (const ttl of ['5m', '1h'])
        await post(
          '/v1/messages',
          {
            model: 'claude-sonnet-4-0',
            max_tokens: 20,
            system: [{ type: 'text', text: `${ttl} ${long}`, cache_control: { type: 'ephemeral', ttl } }],
            messages: [{ role: 'user', content: prompt }],
          },
          'globex',
        );
    }

    const demoUrl = server.demo!.url;
    const pulled = await pullBilling({
      store: server.store,
      accounts: [
        { ...accounts[0]!, admin_key: ADMIN_KEY, base_url: `${demoUrl}/v1` },
        { ...accounts[1]!, admin_key: ADMIN_KEY, base_url: demoUrl },
      ],
      dataDir: dir,
      from: today,
      to: end,
    });
    for (const r of pulled.reports) expect(r.import?.rejected, `${r.account} ${r.format}`).toEqual([]);

    const day = today.toISOString().slice(0, 10);
    const res = await request(
      `${server.url}/api/v1/reconciliation?from=${day}&to=${end.toISOString().slice(0, 10)}&threshold_pct=0`,
    );
    const recon = (await res.body.json()) as ReconciliationJson;
    expect(res.statusCode).toBe(200);
    const mismatched = recon.rows.filter((r) => r.explanation.code !== 'match' || r.delta_usd !== '0.000000000');
    expect(mismatched).toEqual([]);
    const buckets = new Set(recon.rows.map((r) => `${r.provider}/${r.bucket}`));
    for (const b of [
      'openai/cache_read',
      'anthropic/cache_read',
      'anthropic/cache_write_5m',
      'anthropic/cache_write_1h',
    ])
      expect(buckets).toContain(b);
    expect(new Set(recon.rows.map((r) => r.provider))).toEqual(new Set(['openai', 'anthropic']));
    expect(recon.totals.delta_usd).toBe('0.000000000');
    expect(recon.status).toBe('ok');

    // The same month in the Prometheus gauges: the first scrape starts the refresh, a later one shows it.
    const month = day.slice(0, 7);
    let body = '';
    for (
      let i = 0;
      i < 50 && !body.includes(`pertoken_billing_billed_usd{provider="anthropic",month="${month}"}`);
      i++
    ) {
      body = await (await request(`${server.url}/metrics`)).body.text();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const provider of ['openai', 'anthropic']) {
      const metered = body.match(
        new RegExp(`^pertoken_billing_metered_usd\\{provider="${provider}",month="${month}"\\} (\\S+)$`, 'm'),
      );
      const billed = body.match(
        new RegExp(`^pertoken_billing_billed_usd\\{provider="${provider}",month="${month}"\\} (\\S+)$`, 'm'),
      );
      expect(Number(billed?.[1])).toBeGreaterThan(0);
      expect(billed?.[1]).toBe(metered?.[1]);
      expect(body).toContain(`pertoken_billing_explained_ratio{provider="${provider}",month="${month}"} 1`);
    }
  });
});
