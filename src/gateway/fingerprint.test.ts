import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { canonicalClientAddress, type Attribution } from '../ledger/index.js';
import { startHarness, type Harness } from '../testing/harness.js';
import { requestHash } from './fingerprint.js';

const ADMIN = 'admin-secret-token';
let demo: DemoUpstream;
let gateway: Harness;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 3 });
  gateway = await startHarness({ upstream: demo.url, adminToken: ADMIN });
});
afterAll(async () => {
  await gateway.close();
  await demo.close();
});

/** Sends `body` byte for byte as `key`; returns the event's id. */
async function send(body: string, key: string, path = '/v1/chat/completions'): Promise<string> {
  const res = await request(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
  });
  await res.body.text();
  expect(res.statusCode).toBe(200);
  return String(res.headers['x-pertoken-request-id']);
}

async function eventJson(id: string): Promise<Record<string, unknown>> {
  const res = await request(`${gateway.url}/api/v1/events/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await res.body.json()) as Record<string, unknown>;
}

const chat = (text: string): string =>
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] });

describe('request fingerprint and client address on gateway events', () => {
  it('is equal for a resent body and differs for another body or key; the address is the socket’s', async () => {
    const body = chat('Summarise the incident report.');
    const first = await send(body, 'sk-user-one');
    const retry = await send(body, 'sk-user-one');
    const other = await send(chat('Summarise the incident report!'), 'sk-user-one');
    const otherKey = await send(body, 'sk-user-two');
    const [a, b, c, d] = await Promise.all([first, retry, other, otherKey].map(eventJson));

    expect(a?.request_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(b?.request_hash).toBe(a?.request_hash);
    expect(c?.request_hash).not.toBe(a?.request_hash);
    // The same prompt through another key is another caller, not a loop.
    expect(d?.request_hash).not.toBe(a?.request_hash);
    for (const event of [a, b, c, d]) expect(event?.client_address).toBe('127.0.0.1');

    // The event list shows them too, and the stored events agree with the JSON.
    const list = await request(`${gateway.url}/api/v1/events?limit=10`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const page = (await list.body.json()) as { events: Array<Record<string, unknown>> };
    expect(page.events.find((e) => e.id === first)).toMatchObject({
      request_hash: a?.request_hash,
      client_address: '127.0.0.1',
    });
    expect((await gateway.store.getEvent(first))?.request_hash).toBe(a?.request_hash);
  });

  it('hashes the raw bytes: the same request serialised differently is another fingerprint', async () => {
    const compact = await send('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}', 'sk-bytes');
    const spaced = await send('{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}', 'sk-bytes');
    const [a, b] = await Promise.all([compact, spaced].map(eventJson));
    expect(a?.request_hash).not.toBe(b?.request_hash);
  });
});

describe('requestHash', () => {
  const who: Attribution = {
    tenant: 'acme',
    project: null,
    user: null,
    feature: null,
    key_id: 'key-1',
    trace_id: null,
    tags: {},
  };
  const body = Buffer.from('{"model":"m"}');

  it('keeps the route, tenant, key and user apart, and ignores trace id and tags', () => {
    const base = requestHash('openai.chat', who, body);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
    expect(requestHash('openai.chat', { ...who, trace_id: 't-2', tags: { a: 'b' } }, body)).toBe(base);
    expect(requestHash('openai.responses', who, body)).not.toBe(base);
    expect(requestHash('openai.chat', { ...who, tenant: 'globex' }, body)).not.toBe(base);
    expect(requestHash('openai.chat', { ...who, key_id: 'key-2' }, body)).not.toBe(base);
    expect(requestHash('openai.chat', { ...who, key_id: null }, body)).not.toBe(base);
    expect(requestHash('openai.chat', { ...who, user: 'u-1' }, body)).not.toBe(base);
  });
});

describe('canonicalClientAddress', () => {
  it('gives one text per address and refuses what is not an IP literal', () => {
    expect(canonicalClientAddress('203.0.113.9')).toBe('203.0.113.9');
    expect(canonicalClientAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalClientAddress('::FFFF:7f00:1')).toBe('127.0.0.1');
    expect(canonicalClientAddress('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalClientAddress('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalClientAddress('::1')).toBe('::1');
    for (const bad of ['', 'localhost', '10.0.0.256', '010.0.0.1', ' 10.0.0.1', '10.0.0.1:443', '[::1]'])
      expect(canonicalClientAddress(bad), bad).toBeNull();
  });
});
