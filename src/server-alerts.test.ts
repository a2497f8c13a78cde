import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifySignature } from './alerts/index.js';
import { TestReceiver } from './alerts/store/testing/receiver.js';
import { streamEvents, type Stream } from './alerts/testing/seasonal-fixtures.js';
import { parseConfig } from './config/index.js';
import { formatUsd } from './money.js';
import { startPertoken, type RunningServer } from './server.js';
import type { UsageEvent } from './ledger/index.js';

/**
 * The alerts pipeline through the HTTP surface only, as an operator would replay an incident:
 * four weeks of seasonal history posted to the event API, then incidents, with the detectors
 * evaluated at chosen instants (`POST /api/v1/admin/alerts/evaluate`), the alerts read back from
 * `GET /api/v1/alerts`, a silence set through the admin API, and a signed webhook receiving
 * exactly the notifications that were not silenced.
 */
const ADMIN = 'admin-token-for-alerts';
const SECRET = 'webhook-secret-0123456789';
const START = Date.parse('2026-10-05T00:00:00Z'); // a Monday
const T_QUIET = '2026-11-02T11:00:00Z'; // Monday, right after the weekly peak hour
const T_LOOP = '2026-11-02T11:20:00Z';
const T_SPIKE = '2026-11-02T12:00:00Z';

let dir: string;
let server: RunningServer;
const webhook = new TestReceiver();

const search: Stream = {
  tenant: 'acme',
  project: null,
  feature: 'search',
  key: 'k-acme',
  model: 'gpt-4o-mini',
  peak: 40,
  buckets: { input: 48_000, output: 12_000 }, // ~$1.10 an office hour: the spike is many times the $1 floor
  seed: 7,
  // The incident: search traffic ×8 between 11:00 and 12:00 on the Monday evaluated.
  incident: (hour) => (hour === Date.parse('2026-11-02T11:00:00Z') ? { requests: 8 } : null),
};

function wire(e: UsageEvent, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: e.id,
    time: e.time.toISOString(),
    source: 'replay',
    tenant: e.tenant,
    ...(e.feature ? { feature: e.feature } : {}),
    ...(e.key_id ? { key_id: e.key_id } : {}),
    provider: e.provider,
    model: e.model,
    tokens: e.buckets,
    ...(e.cost_nano === null ? {} : { cost_usd: formatUsd(e.cost_nano) }),
    ...extra,
  };
}

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await request(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

async function postEvents(events: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) {
    const { status, json } = await call('POST', '/v1/usage/events', events.slice(i, i + 5000));
    expect(status, JSON.stringify(json)).toBe(200);
    expect((json as { rejected: unknown[] }).rejected).toEqual([]);
  }
}

interface AlertRow {
  kind: string;
  severity: string;
  state: string;
  scope: Record<string, string>;
  summary: string;
}

async function firing(): Promise<AlertRow[]> {
  const { status, json } = await call('GET', '/api/v1/alerts?state=firing');
  expect(status).toBe(200);
  return (json as { alerts: AlertRow[] }).alerts;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-alerts-'));
  await webhook.start();
  server = await startPertoken({
    config: parseConfig({
      demo: { ttft_ms: 1, itl_ms: 0 },
      alerts: { sinks: [{ kind: 'webhook', name: 'oncall', url: `${webhook.url}/hook`, secret: SECRET }] },
    }),
    env: { PERTOKEN_ADMIN_TOKEN: ADMIN },
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    demo: true,
    log: pino({ level: 'silent' }),
  });
  // Four weeks of history, the Monday peak included, up to the end of the incident hour.
  await postEvents(streamEvents(search, START, Date.parse('2026-11-02T12:00:00Z')).map((e) => wire(e)));
}, 120_000);

afterAll(async () => {
  await server.shutdown();
  await webhook.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('alerts over HTTP: replayed history, incidents, silences and a signed webhook', () => {
  it('a normal Monday peak raises nothing', async () => {
    const { status, json } = await call('POST', '/api/v1/admin/alerts/evaluate', { at: T_QUIET });
    expect(status).toBe(200);
    expect(json).toMatchObject({ at: '2026-11-02T11:00:00.000Z', opened: [], failed: [] });
    expect(await firing()).toEqual([]);
  });

  it('an SDK retry loop from one key pages request_loop naming the tenant and the key, and the webhook gets it signed', async () => {
    const loop = Array.from({ length: 60 }, (_, i) =>
      wire(
        streamEvents(
          { ...search, seed: 100 + i, peak: 1, incident: undefined },
          Date.parse('2026-11-02T11:00:00Z'),
          Date.parse('2026-11-02T12:00:00Z'),
        )[0] as UsageEvent,
        {
          id: `loop-${i}`,
          time: new Date(Date.parse('2026-11-02T11:10:00Z') + i * 5000).toISOString(),
          request_hash: 'ab'.repeat(16),
        },
      ),
    );
    await postEvents(loop);
    const { json } = await call('POST', '/api/v1/admin/alerts/evaluate', { at: T_LOOP });
    expect((json as { failed: unknown[] }).failed).toEqual([]);
    const loops = (await firing()).filter((a) => a.kind === 'request_loop');
    expect(loops).toEqual([
      expect.objectContaining({ severity: 'page', state: 'firing', scope: { tenant: 'acme', key: 'k-acme' } }),
    ]);
    expect(loops[0]?.summary).not.toContain('messages'); // a fingerprint, never the payload

    await vi.waitFor(() => expect(webhook.accepted().length).toBeGreaterThan(0), { timeout: 20_000, interval: 100 });
    const delivery = webhook.accepted()[0]!;
    expect(delivery.path).toBe('/hook');
    expect(verifySignature(SECRET, delivery.body, String(delivery.headers['x-pertoken-signature']))).toBe(true);
    expect(
      verifySignature('another-secret-0123456', delivery.body, String(delivery.headers['x-pertoken-signature'])),
    ).toBe(false);
    const body = JSON.parse(delivery.body) as { alerts: Array<{ kind: string; change: string }> };
    expect(body.alerts.map((a) => [a.kind, a.change])).toEqual([['request_loop', 'opened']]);
  });

  it('a silenced spend spike is listed as firing but notifies nobody', async () => {
    const silence = await call('POST', '/api/v1/admin/silences', {
      matchers: { kind: 'spend_anomaly', tenant: 'acme' },
      from: T_LOOP,
      to: new Date(Date.now() + 86_400_000).toISOString(), // a silence must end in the future
      reason: 'load test of search, planned',
    });
    expect(silence.status).toBe(201);
    const before = webhook.received.length;

    const evaluated = await call('POST', '/api/v1/admin/alerts/evaluate', { at: T_SPIKE });
    expect((evaluated.json as { failed: unknown[] }).failed).toEqual([]);
    const spikes = (await firing()).filter((a) => a.kind === 'spend_anomaly');
    // The feature, the model and the key each carry all of the excess: the tenant is named, and they are listed.
    expect(spikes).toEqual([expect.objectContaining({ severity: 'page', scope: { tenant: 'acme' } })]);
    expect(spikes[0]?.summary).toContain('feature search');

    // The same evaluation resolved the retry loop (no repeats in the last 10 minutes): once that
    // notification arrives, the evaluation's whole batch has been delivered.
    const batch = (): string[] =>
      webhook
        .accepted()
        .slice(before)
        .flatMap((r) => (JSON.parse(r.body) as { alerts: Array<{ kind: string; change: string }> }).alerts)
        .map((a) => `${a.kind}:${a.change}`);
    await vi.waitFor(() => expect(batch()).toContain('request_loop:resolved'), { timeout: 20_000, interval: 100 });
    const kinds = batch();
    expect(kinds).not.toContain('spend_anomaly');
  });

  it('bad input gets a clear error', async () => {
    const badAt = await call('POST', '/api/v1/admin/alerts/evaluate', { at: 'yesterday' });
    expect(badAt.status).toBe(400);
    expect(badAt.json).toMatchObject({ error: { param: 'at' } });
    const badSilence = await call('POST', '/api/v1/admin/silences', { matchers: {}, from: T_SPIKE, reason: 'x' });
    expect(badSilence.status).toBe(400);
    const badState = await call('GET', '/api/v1/alerts?state=maybe');
    expect(badState.json).toMatchObject({ error: { param: 'state' } });
    const badScope = await call('GET', '/api/v1/forecast?scope=galaxy:far');
    expect(badScope.json).toMatchObject({ error: { param: 'scope' } });
  });

  it('forecasts the month for a tenant as of an instant', async () => {
    const { status, json } = await call('GET', `/api/v1/forecast?scope=tenant:acme&period=month&at=${T_SPIKE}`);
    expect(status).toBe(200);
    const f = json as Record<string, string | number>;
    expect(f).toMatchObject({ scope: 'tenant:acme', period_start: '2026-11-01T00:00:00.000Z', interval: 0.8 });
    expect(f.period_end).toBe('2026-12-01T00:00:00.000Z');
    for (const field of ['spent_usd', 'projected_usd', 'low_usd', 'high_usd'])
      expect(String(f[field])).toMatch(/^\d+\.\d{9}$/);
    expect(Number(f.low_usd)).toBeLessThanOrEqual(Number(f.projected_usd));
    expect(Number(f.projected_usd)).toBeGreaterThan(Number(f.spent_usd));
  });
});
