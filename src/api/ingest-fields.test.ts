import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type Harness } from '../testing/harness.js';

const ADMIN = 'admin-secret-token';
let demo: DemoUpstream;
let gateway: Harness;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 4 });
  gateway = await startHarness({ upstream: demo.url, adminToken: ADMIN });
});
afterAll(async () => {
  await gateway.close();
  await demo.close();
});

async function api(method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await request(`${gateway.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  time: '2026-11-20T10:15:00Z',
  source: 'batch-job',
  tenant: 'acme',
  key_id: 'key-1',
  provider: 'openai',
  model: 'gpt-4o-mini',
  tokens: { input: 10, output: 5 },
  ...extra,
});

describe('POST /v1/usage/events: request_hash and client_address', () => {
  it('accepts both, stores them canonical and shows them; events without them show null', async () => {
    const reply = await api('POST', '/v1/usage/events', [
      event('rh-1', { request_hash: 'DEADBEEF00112233', client_address: '2001:DB8::0:1' }),
      event('rh-2', { client_address: '::ffff:192.0.2.10' }),
      event('rh-3'),
    ]);
    expect(reply).toEqual({ status: 200, json: { accepted: ['rh-1', 'rh-2', 'rh-3'], duplicate: [], rejected: [] } });
    expect((await api('GET', '/api/v1/events/rh-1')).json).toMatchObject({
      request_hash: 'deadbeef00112233',
      client_address: '2001:db8::1',
    });
    expect((await api('GET', '/api/v1/events/rh-2')).json).toMatchObject({
      request_hash: null,
      client_address: '192.0.2.10',
    });
    expect((await api('GET', '/api/v1/events/rh-3')).json).toMatchObject({ request_hash: null, client_address: null });
  });

  it('rejects a malformed field one event at a time, naming it', async () => {
    const reply = await api('POST', '/v1/usage/events', [
      event('bad-1', { request_hash: 'abc' }),
      event('bad-2', { request_hash: 'x'.repeat(32) }),
      event('bad-3', { request_hash: 'a'.repeat(129) }),
      event('bad-4', { client_address: '10.0.0.300' }),
      event('bad-5', { client_address: 'gateway.internal' }),
      event('bad-6', { client_address: 42 }),
      event('fine', { request_hash: 'a'.repeat(128), client_address: '10.0.0.3' }),
    ]);
    const json = reply.json as { accepted: string[]; rejected: Array<{ id: string; reason: string }> };
    expect(reply.status).toBe(200);
    expect(json.accepted).toEqual(['fine']);
    expect(json.rejected.map((r) => [r.id, r.reason])).toEqual([
      ['bad-1', 'request_hash: must be 8 to 128 hex characters'],
      ['bad-2', 'request_hash: must be 8 to 128 hex characters'],
      ['bad-3', 'request_hash: must be 8 to 128 hex characters'],
      ['bad-4', 'client_address: must be an IPv4 or IPv6 address'],
      ['bad-5', 'client_address: must be an IPv4 or IPv6 address'],
      ['bad-6', expect.stringMatching(/^client_address: /) as unknown as string],
    ]);
  });
});

describe('POST /v1/usage/events: one bad event never sinks its batch', () => {
  it('rejects a negative cost_usd alone, naming cost_usd, and stores the rest', async () => {
    const reply = await api('POST', '/v1/usage/events', [
      event('cost-ok-1'),
      event('cost-neg', { cost_usd: '-0.500000000' }),
      event('cost-ok-2', { cost_usd: '0.000000001' }),
    ]);
    expect(reply).toEqual({
      status: 200,
      json: {
        accepted: ['cost-ok-1', 'cost-ok-2'],
        duplicate: [],
        rejected: [{ id: 'cost-neg', index: 1, reason: 'cost_usd: must not be negative' }],
      },
    });
    expect((await api('GET', '/api/v1/events/cost-neg')).status).toBe(404);
    expect((await api('GET', '/api/v1/events/cost-ok-2')).json).toMatchObject({ cost_usd: '0.000000001' });
  });

  it('keeps a body that is no batch a 400 for the whole request', async () => {
    const reply = await api('POST', '/v1/usage/events', { event: event('lone') });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ error: { code: 'invalid_request', param: 'events' } });
  });
});

describe('POST /v1/usage/events: events dated ahead of the server clock', () => {
  const NOW = Date.parse('2026-11-20T12:00:00.000Z');
  let clocked: Harness;
  beforeAll(async () => {
    clocked = await startHarness({ upstream: demo.url, adminToken: ADMIN, now: () => new Date(NOW) });
  });
  afterAll(() => clocked.close());

  it('accepts five minutes ahead of the injected clock and rejects a millisecond more, per event', async () => {
    const res = await request(`${clocked.url}/v1/usage/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify([
        event('skew-edge', { time: new Date(NOW + 5 * 60_000).toISOString() }),
        event('skew-beyond', { time: new Date(NOW + 5 * 60_000 + 1).toISOString() }),
      ]),
    });
    const json = (await res.body.json()) as { accepted: string[]; rejected: Array<{ id: string; reason: string }> };
    expect(res.statusCode).toBe(200);
    expect(json.accepted).toEqual(['skew-edge']);
    expect(json.rejected.map((r) => [r.id, r.reason.split(':')[0]])).toEqual([['skew-beyond', 'time']]);
  });
});

describe('POST /v1/usage/events: refused demand', () => {
  it('takes a refused event as refused demand, never spend, and refuses one that carries usage', async () => {
    const reply = await api('POST', '/v1/usage/events', [
      event('refused-1', { tenant: 'refusals', status: 'refused', tokens: {} }),
      event('refused-2', { tenant: 'refusals', status: 'refused' }),
      event('served-1', { tenant: 'refusals' }),
    ]);
    expect(reply.json).toMatchObject({
      accepted: ['refused-1', 'served-1'],
      rejected: [{ id: 'refused-2', reason: 'status: a refused event carries no tokens and no cost' }],
    });
    const costs = await api('GET', '/api/v1/costs?from=2026-11-20&to=2026-11-21&filter[tenant]=refusals');
    expect((costs.json as { totals: Record<string, unknown> }).totals).toMatchObject({
      requests: 1,
      refused_requests: 1,
    });
  });
});
