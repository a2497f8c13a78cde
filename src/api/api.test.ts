import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type Harness } from '../testing/harness.js';

const ADMIN = 'admin-secret-token';
let demo: DemoUpstream;
let gateway: Harness;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 2 });
  gateway = await startHarness({ upstream: demo.url, adminToken: ADMIN });
});
afterAll(async () => {
  await gateway.close();
  await demo.close();
});

async function api(method: 'GET' | 'POST', path: string, body?: unknown, token: string | null = ADMIN) {
  const res = await request(`${gateway.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    json: text.startsWith('{') || text.startsWith('[') ? (JSON.parse(text) as Record<string, unknown>) : null,
    text,
  };
}

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  time: '2026-11-20T10:15:00Z',
  source: 'batch-job',
  tenant: 'acme',
  project: 'search',
  provider: 'openai',
  model: 'gpt-4o-mini',
  tokens: { input: 1000, output: 50 },
  ...extra,
});

describe('POST /v1/usage/events', () => {
  it('accepts, prices exactly, and acknowledges re-sent ids as duplicates', async () => {
    // gpt-4o-mini: 1000 × 150 + 50 × 600 = 180000 nano-USD (genai-prices' float gives 0.00017999999999999998).
    const first = await api('POST', '/v1/usage/events', [
      event('evt-1'),
      event('evt-2', { tenant: 'globex', time: '2026-11-20T11:59:59.999Z' }),
    ]);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ accepted: ['evt-1', 'evt-2'], duplicate: [], rejected: [] });
    const again = await api('POST', '/v1/usage/events', {
      events: [event('evt-1'), event('evt-3', { cost_usd: '0.000000007', model: 'my-finetune' })],
    });
    expect(again.json).toEqual({ accepted: ['evt-3'], duplicate: ['evt-1'], rejected: [] });
    const stored = await api('GET', '/api/v1/events/evt-1');
    expect(stored.json).toMatchObject({
      id: 'evt-1',
      cost_usd: '0.000180000',
      usage_source: 'reported',
      buckets: { input: 1000, output: 50 },
      // The lines behind the cost, each rounded once; they add up to it.
      cost_lines: [
        {
          bucket: 'input',
          quantity: 1000,
          unit_price_usd: '0.15',
          per: 'mtok',
          discount_pct: null,
          cost_usd: '0.000150000',
        },
        {
          bucket: 'output',
          quantity: 50,
          unit_price_usd: '0.6',
          per: 'mtok',
          discount_pct: null,
          cost_usd: '0.000030000',
        },
      ],
    });
    // A cost the sender reported has no lines pertoken could vouch for.
    expect((await api('GET', '/api/v1/events/evt-3')).json).toMatchObject({
      cost_usd: '0.000000007',
      price_ref: 'reported:batch-job',
      cost_lines: null,
    });
  });

  it('rejects bad events one by one with reasons, keeping the good ones', async () => {
    const res = await api('POST', '/v1/usage/events', [
      event('ok-1'),
      event('bad-tokens', { tokens: { input: -1 } }),
      event('bad-bucket', { tokens: { prompt_tokens: 5 } }),
      { ...event('bad-time'), time: 'yesterday' },
      event('bad-cost', { cost_usd: '0.1234567891' }),
      'not an object',
    ]);
    expect(res.status).toBe(200);
    const reply = res.json as {
      accepted: string[];
      rejected: Array<{ id: string | null; index: number; reason: string }>;
    };
    expect(reply.accepted).toEqual(['ok-1']);
    expect(reply.rejected.map((r) => [r.id, r.index])).toEqual([
      ['bad-tokens', 1],
      ['bad-bucket', 2],
      ['bad-time', 3],
      ['bad-cost', 4],
      [null, 5],
    ]);
    expect(reply.rejected[0]?.reason).toMatch(/tokens\.input/);
    expect(reply.rejected[1]?.reason).toMatch(/prompt_tokens/);
    expect(reply.rejected[3]?.reason).toMatch(/decimal|9/);
  });

  it('an unknown model is recorded unpriced, never $0', async () => {
    await api('POST', '/v1/usage/events', [event('unpriced-1', { model: 'no-such-model-x' })]);
    const stored = (await api('GET', '/api/v1/events/unpriced-1')).json as {
      cost_usd: unknown;
      usage_issues: string[];
    };
    expect(stored.cost_usd).toBeNull();
    expect(stored.usage_issues.join(' ')).toMatch(/unpriced/);
  });

  it('refuses a body that is not a batch', async () => {
    const res = await api('POST', '/v1/usage/events', { nope: true });
    expect(res.status).toBe(400);
    expect((res.json as { error: { param: string } }).error.param).toBe('events');
  });
});

describe('GET /api/v1/costs', () => {
  it('groups, filters and totals with 9-decimal money strings', async () => {
    const res = await api(
      'GET',
      '/api/v1/costs?from=2026-11-20&to=2026-11-21&group_by=tenant,model,hour&filter[project]=search',
    );
    expect(res.status).toBe(200);
    const body = res.json as {
      rows: Array<Record<string, unknown>>;
      totals: Record<string, unknown>;
      currency: string;
      from: string;
      to: string;
    };
    expect(body.currency).toBe('USD');
    expect(body.from).toBe('2026-11-20T00:00:00.000Z');
    const acme = body.rows.filter((r) => r.tenant === 'acme' && r.model === 'gpt-4o-mini');
    // evt-1 and ok-1: 2 × 180000 nano
    expect(acme).toEqual([
      {
        tenant: 'acme',
        model: 'gpt-4o-mini',
        hour: '2026-11-20T10:00:00Z',
        requests: 2,
        tokens: { input: 2000, output: 100 },
        cost_usd: '0.000360000',
        list_cost_usd: '0.000360000',
        adjustments_usd: '0.000000000',
        net_cost_usd: '0.000360000',
        unpriced_requests: 0,
        estimated_requests: 0,
        refused_requests: 0,
        cost_per_1m_tokens_usd: '0.171428571',
        cost_per_request_usd: '0.000180000',
        cost_per_output_token_usd: '0.000003600',
      },
    ]);
    expect(body.rows.find((r) => r.model === 'no-such-model-x')).toMatchObject({
      unpriced_requests: 1,
      cost_usd: '0.000000000',
    });
    expect(body.totals).toMatchObject({ requests: 5, unpriced_requests: 1 });
    expect(typeof body.totals.cost_usd).toBe('string');
  });

  it('counts gateway traffic by served and requested model', async () => {
    const chat = await request(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pertoken-tenant': 'live' },
      body: JSON.stringify({ model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await chat.body.text();
    const res = await api('GET', '/api/v1/costs?group_by=model,requested_model&filter[tenant]=live');
    expect((res.json as { rows: unknown[] }).rows).toEqual([
      expect.objectContaining({ model: 'gpt-4o-2024-08-06', requested_model: 'gpt-4o', requests: 1 }),
    ]);
  });

  it.each([
    ['group_by=colour', 'group_by'],
    ['from=yesterday', 'from'],
    ['from=2026-11-21&to=2026-11-20', 'from'],
    ['filter[colour]=red', 'filter[colour]'],
  ])('rejects %s naming %s', async (query, param) => {
    const res = await api('GET', `/api/v1/costs?${query}`);
    expect(res.status).toBe(400);
    expect((res.json as { error: { param: string } }).error.param).toBe(param);
  });
});

describe('events, auth, health and metrics', () => {
  it('pages events newest first with a cursor', async () => {
    const first = (await api('GET', '/api/v1/events?limit=2')).json as {
      events: Array<{ id: string; time: string }>;
      next_cursor: string;
    };
    expect(first.events).toHaveLength(2);
    const second = (await api('GET', `/api/v1/events?limit=2&cursor=${encodeURIComponent(first.next_cursor)}`))
      .json as { events: Array<{ id: string; time: string }> };
    expect(second.events[0]?.id).not.toBe(first.events[1]?.id);
    expect(Date.parse(second.events[0]?.time ?? '') <= Date.parse(first.events[1]?.time ?? '')).toBe(true);
    expect((await api('GET', '/api/v1/events/nope')).status).toBe(404);
  });

  it('requires the admin token on /api/v1 and the event API', async () => {
    for (const path of ['/api/v1/costs', '/api/v1/events', '/api/v1/events/evt-1']) {
      expect((await api('GET', path, undefined, null)).status).toBe(401);
      expect((await api('GET', path, undefined, 'wrong')).status).toBe(401);
    }
    const res = await api('POST', '/v1/usage/events', [event('sneaky')], 'wrong');
    expect(res.status).toBe(401);
    expect((res.json as { error: { type: string } }).error.type).toBe('authentication_error');
    expect((await api('GET', '/api/v1/events/sneaky')).status).toBe(404);
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await api('GET', '/healthz', undefined, null)).json).toEqual({ status: 'ok' });
    expect((await api('GET', '/readyz', undefined, null)).json).toEqual({ status: 'ready' });
    // With an admin token set, /metrics asks for it too (api/metrics-auth.test.ts).
    const metrics = await api('GET', '/metrics');
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.text).toMatch(
      /pertoken_requests_total\{route="openai.chat",provider="openai",model="gpt-4o-2024-08-06",status="ok"\} 1/,
    );
    expect(metrics.text).toMatch(
      /pertoken_tokens_total\{tenant="live",provider="openai",model="gpt-4o-2024-08-06",bucket="output"\} 5/,
    );
    expect(metrics.text).toMatch(/pertoken_ingested_events_total\{result="duplicate"\} 1/);
    // Accepted events count as spend once (the duplicate did not): route "event" is the event API's.
    expect(metrics.text).toMatch(
      /pertoken_tokens_total\{tenant="acme",provider="openai",model="gpt-4o-mini",bucket="input"\} \d+/,
    );
    expect(metrics.text).toMatch(
      /pertoken_requests_total\{route="event",provider="openai",model="gpt-4o-mini",status="ok"\} \d+/,
    );
    expect(metrics.text).toContain('pertoken_request_duration_seconds_bucket');
  });
});
