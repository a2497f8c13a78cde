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
