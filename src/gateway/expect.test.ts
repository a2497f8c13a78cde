import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type Harness } from '../testing/harness.js';

/**
 * `Expect: 100-continue`, as curl sends it for bodies over 1 MB, through the real app and the
 * simulated upstream: the gateway's server answers 100 Continue, the expectation stays at this
 * hop (undici refuses to send it), and the call is served and billed from the provider's usage.
 */
let demo: DemoUpstream;
let gateway: Harness;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 5 });
  gateway = await startHarness({ upstream: demo.url, config: { server: { max_body_bytes: 4 * 1024 * 1024 } } });
});
afterAll(async () => {
  await gateway.close();
  await demo.close();
});

interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Whether the server answered 100 Continue before the body was sent. */
  continued: boolean;
}

/** A raw HTTP/1.1 request that sends its body only after 100 Continue, as curl does. */
function postExpecting(path: string, body: Buffer, expectation: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, gateway.url);
    let continued = false;
    const req = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        expect: expectation,
        'x-pertoken-tenant': 'expect-co',
      },
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
          continued,
        }),
      );
      // An early answer (417) means the body is never wanted.
      if (!continued) req.destroy();
    });
    req.on('error', (err) => (continued ? reject(err) : undefined));
    req.flushHeaders();
  });
}

/** A 1.2 MB chat body (over curl's 1 MB threshold for Expect). */
function bigChat(): Buffer {
  const filler = 'The sea is calm tonight. '.repeat(48_000);
  return Buffer.from(
    JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 8, messages: [{ role: 'user', content: filler }] }),
  );
}

describe('Expect: 100-continue', () => {
  it('is answered by the gateway, not forwarded: a 1.2 MB call is served and billed from provider usage', async () => {
    const body = bigChat();
    expect(body.length).toBeGreaterThan(1_200_000);
    const reply = await postExpecting('/v1/chat/completions', body, '100-continue');
    expect(reply.continued).toBe(true);
    expect(reply.status).toBe(200);
    const id = String(reply.headers['x-pertoken-request-id']);
    const event = await gateway.store.getEvent(id);
    expect(event).toMatchObject({ status: 'ok', http_status: 200, usage_source: 'provider', tenant: 'expect-co' });
    expect(event?.buckets.input).toBeGreaterThan(200_000);
    expect(event?.cost_nano).toBeGreaterThan(0n);
  });

  it('an expectation the gateway cannot meet is 417, before any body, with nothing recorded', async () => {
    const before = (await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length;
    const reply = await postExpecting('/v1/chat/completions', bigChat(), 'something-else');
    expect(reply.status).toBe(417);
    expect(reply.continued).toBe(false);
    expect((await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length).toBe(before);
  });
});

describe('a call undici refuses before writing it', () => {
  it('is answered 502 and recorded as not sent: no estimate, nothing billed', async () => {
    // A configured upstream header undici cannot send stands for any request it refuses up front.
    const refusing = await startHarness({
      upstream: demo.url,
      config: {
        upstreams: [
          { name: 'oa', kind: 'openai', base_url: `${demo.url}/v1`, headers: { expect: '100-continue' } },
          { name: 'an', kind: 'anthropic', base_url: demo.url },
        ],
      },
    });
    try {
      const res = await fetch(`${refusing.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-pertoken-tenant': 'expect-co' },
        body: bigChat(),
      });
      expect(res.status).toBe(502);
      const event = await refusing.store.getEvent(res.headers.get('x-pertoken-request-id') ?? '');
      expect(event).toMatchObject({ status: 'error', cost_nano: 0n, price_ref: 'not-billed', buckets: {} });
      expect(event?.usage_source).toBe('provider');
    } finally {
      await refusing.close();
    }
  });
});
