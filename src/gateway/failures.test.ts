import { createServer } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type Harness } from '../testing/harness.js';

let demo: DemoUpstream;
let gateway: Harness;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 5, itlMs: 2, seed: 7 });
  gateway = await startHarness({
    upstream: demo.url,
    config: { server: { max_body_bytes: 4096 } },
  });
});
afterAll(async () => {
  await gateway.close();
  await demo.close();
});

const chat = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Tell me about the sea' }],
    max_tokens: 40,
    ...extra,
  });

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await request(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.body.text().catch((err: unknown) => `<body failed: ${String(err)}>`);
  return { status: res.statusCode, headers: res.headers, text, id: String(res.headers['x-pertoken-request-id'] ?? '') };
}

function errorOf(text: string): { type: string; code: string; message: string; param: string | null } {
  return (JSON.parse(text) as { error: { type: string; code: string; message: string; param: string | null } }).error;
}

describe('bad input gets an OpenAI-shaped error and records nothing', () => {
  it.each([
    ['malformed JSON', '/v1/chat/completions', '{"model": "gpt-4o",', 400, 'invalid_json', null],
    ['empty body', '/v1/chat/completions', '', 400, 'invalid_json', null],
    [
      'model of the wrong type',
      '/v1/chat/completions',
      JSON.stringify({ model: 5, messages: [] }),
      400,
      'invalid_request',
      'model',
    ],
    [
      'messages missing',
      '/v1/chat/completions',
      JSON.stringify({ model: 'gpt-4o' }),
      400,
      'invalid_request',
      'messages',
    ],
    ['body over the limit', '/v1/chat/completions', chat({ pad: 'x'.repeat(5000) }), 413, 'body_too_large', null],
    ['unknown route', '/v1/nope', chat(), 404, 'not_found', null],
  ])('%s', async (_name, path, body, status, code, param) => {
    const before = (await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length;
    const res = await post(path, body);
    expect(res.status).toBe(status);
    const error = errorOf(res.text);
    expect(error.code).toBe(code);
    expect(error.param).toBe(param);
    expect(error.message.length).toBeGreaterThan(0);
    expect((await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length).toBe(before);
  });

  it('answers in the Anthropic shape on the Anthropic wire, naming the field in the message', async () => {
    const before = (await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length;
    const res = await post(
      '/v1/messages',
      JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'Hi' }],
        stream: 'yes',
      }),
    );
    expect(res.status).toBe(400);
    const body = JSON.parse(res.text) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^stream: /);
    expect(Object.keys(body.error).sort()).toEqual(['message', 'type']);
    expect((await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length).toBe(before);
  });

  it('405 for a known path with another method', async () => {
    // GET /v1/chat/completions lists stored completions (a pass-through route); embeddings are POST only.
    const res = await request(`${gateway.url}/v1/embeddings`, { method: 'GET' });
    expect(res.statusCode).toBe(405);
    expect(errorOf(await res.body.text()).code).toBe('method_not_allowed');
  });

  it('400 naming a bad attribution header', async () => {
    const res = await post('/v1/chat/completions', chat(), { 'x-pertoken-tenant': 'no spaces allowed' });
    expect(res.status).toBe(400);
    expect(errorOf(res.text)).toMatchObject({
      code: 'invalid_header',
      param: 'x-pertoken-tenant',
      type: 'invalid_request_error',
    });
  });
});

describe('upstream failures are relayed and recorded', () => {
  it('relays an upstream 429 with its body and retry-after; records a not-billed error', async () => {
    const res = await post('/v1/chat/completions', chat(), { 'x-demo-fault': 'status:429' });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(errorOf(res.text).type).toBeTruthy();
    const event = await gateway.store.getEvent(res.id);
    expect(event).toMatchObject({ status: 'error', http_status: 429, cost_nano: 0n, price_ref: 'not-billed' });
  });

  it('answers 502 when the upstream resets the connection and keeps an estimate', async () => {
    const res = await post('/v1/chat/completions', chat(), { 'x-demo-fault': 'reset' });
    expect(res.status).toBe(502);
    expect(errorOf(res.text).code).toBe('upstream_unreachable');
    const event = await gateway.store.getEvent(res.id);
    expect(event?.status).toBe('interrupted');
    expect(event?.usage_source).toBe('estimated');
    expect(event?.buckets.input).toBeGreaterThan(0);
  });

  it('answers 502 when nothing listens upstream and bills nothing', async () => {
    const port = await freePort();
    const dead = await startHarness({ upstream: `http://127.0.0.1:${port}` });
    try {
      const res = await request(`${dead.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chat(),
      });
      expect(res.statusCode).toBe(502);
      const id = String(res.headers['x-pertoken-request-id']);
      expect(errorOf(await res.body.text()).code).toBe('upstream_unreachable');
      expect(await dead.store.getEvent(id)).toMatchObject({ status: 'error', cost_nano: 0n });
    } finally {
      await dead.close();
    }
  });

  it('estimates a stream cut after 3 chunks, and breaks the client connection', async () => {
    const res = await post('/v1/chat/completions', chat({ stream: true }), { 'x-demo-fault': 'cut-after:3' });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^<body failed/);
    const event = await gateway.store.getEvent(res.id);
    expect(event).toMatchObject({ status: 'interrupted', usage_source: 'estimated', streamed: true });
    expect(event?.buckets.output).toBeGreaterThan(0);
    expect(event?.cost_nano).toBeGreaterThan(0n);
  });

  it('survives a malformed SSE event and still reads the usage', async () => {
    const res = await post('/v1/chat/completions', chat({ stream: true }), { 'x-demo-fault': 'broken-sse' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('data: [DONE]');
    const event = await gateway.store.getEvent(res.id);
    expect(event).toMatchObject({ status: 'ok', usage_source: 'provider' });
    expect(event?.buckets.output).toBe(40);
  });

  it('estimates a stream that completes without usage, flagged, never $0', async () => {
    const res = await post('/v1/chat/completions', chat({ stream: true }), { 'x-demo-fault': 'no-usage' });
    const event = await gateway.store.getEvent(res.id);
    expect(event).toMatchObject({ status: 'ok', usage_source: 'estimated' });
    expect(event?.cost_nano).toBeGreaterThan(0n);
    expect(event?.usage_issues.join(' ')).toMatch(/provider sent no usage/);
  });

  it('times out a silent upstream (first byte) with 504', async () => {
    const timed = await startHarnessWithTimeouts({ first_byte_ms: 100, idle_ms: 100, connect_ms: 1000 });
    try {
      const res = await request(`${timed.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-demo-fault': 'slow-headers:1500' },
        body: chat(),
      });
      expect(res.statusCode).toBe(504);
      expect(errorOf(await res.body.text()).code).toBe('upstream_timeout');
      // A stream that stalls after two chunks is cut by the idle timeout and estimated.
      const stalled = await request(`${timed.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-demo-fault': 'stall-after:2' },
        body: chat({ stream: true }),
      });
      const id = String(stalled.headers['x-pertoken-request-id']);
      await stalled.body.text().catch(() => '');
      expect(await timed.store.getEvent(id)).toMatchObject({ status: 'interrupted', usage_source: 'estimated' });
    } finally {
      await timed.close();
    }
  });
});

describe('client disconnect', () => {
  it('cancels the upstream stream and records what was consumed', async () => {
    const slowDemo = await startDemoUpstream({ ttftMs: 5, itlMs: 20, seed: 3 });
    const gw = await startHarness({ upstream: slowDemo.url });
    try {
      const controller = new AbortController();
      const res = await request(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chat({ stream: true, max_tokens: 500 }),
        signal: controller.signal,
      });
      const id = String(res.headers['x-pertoken-request-id']);
      let chunks = 0;
      await expect(
        (async () => {
          for await (const _chunk of res.body) {
            if (++chunks === 3) controller.abort();
          }
        })(),
      ).rejects.toThrow();
      const event = await waitFor(() => gw.store.getEvent(id));
      expect(event).toMatchObject({ status: 'cancelled', usage_source: 'estimated' });
      expect(event.buckets.output ?? 0).toBeLessThan(500);
      // The upstream stopped generating for the departed client.
      await waitFor(async () => (slowDemo.openStreams === 0 ? true : null));
    } finally {
      await gw.close();
      await slowDemo.close();
    }
  });
});

async function startHarnessWithTimeouts(timeouts: Record<string, number>): Promise<Harness> {
  return startHarness({
    upstream: demo.url,
    config: {
      upstreams: [
        { name: 'oa', kind: 'openai', base_url: `${demo.url}/v1`, timeouts },
        { name: 'an', kind: 'anthropic', base_url: demo.url, timeouts },
      ],
    },
  });
}

/** Polls until the probe returns a value (events commit just after the client sees the cut). */
async function waitFor<T>(probe: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached after 200 polls');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
