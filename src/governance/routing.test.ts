import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call, chat } from '../testing/http.js';

/** Cost-aware routing through the real gateway: aliases, fallback chains, requested vs served. */
let demo: DemoUpstream;
let gw: GovernedHarness;

beforeAll(async () => {
  demo = await startDemoUpstream({
    ttftMs: 1,
    itlMs: 0,
    seed: 9,
    script: (ctx) =>
      ctx.model === 'gpt-4o' || ctx.model === 'o3'
        ? 'status:503'
        : ctx.model === 'gpt-4.1'
          ? 'slow-headers:5000'
          : null,
  });
  gw = await startHarness({
    governance: true,
    adminToken: ADMIN,
    upstream: demo.url,
    config: {
      upstreams: [
        {
          name: 'oa',
          kind: 'openai',
          provider: 'openai',
          base_url: `${demo.url}/v1`,
          timeouts: { connect_ms: 1000, first_byte_ms: 300, idle_ms: 1000 },
        },
        { name: 'an', kind: 'anthropic', base_url: demo.url },
      ],
      routing: {
        aliases: { fast: 'gpt-4o-mini', smart: 'gpt-4o' },
        fallbacks: {
          'gpt-4o': ['gpt-4o-mini'],
          'gpt-4.1': ['gpt-4o-mini'],
          'gpt-4o-mini': ['claude-3-5-haiku-latest'],
        },
      },
    },
  });
});
afterAll(async () => {
  await gw.close();
  await demo.close();
});

async function event(reply: { headers: Record<string, unknown> }) {
  await gw.store.flush();
  return gw.store.getEvent(String(reply.headers['x-pertoken-request-id']));
}

describe('routing policy', () => {
  it('serves an alias by its model and records both names, priced', async () => {
    const reply = await chat(gw.url, 'sk-x', 'fast');
    expect(reply.status).toBe(200);
    expect(reply.json.model).toBe('gpt-4o-mini-2024-07-18');
    const recorded = await event(reply);
    expect(recorded).toMatchObject({ requested_model: 'fast', model: 'gpt-4o-mini-2024-07-18', status: 'ok' });
    expect(recorded?.cost_nano).toBeGreaterThan(0n);
  });

  it('falls back on a 503 before any byte reached the client, streaming too', async () => {
    for (const stream of [false, true]) {
      const reply = await call(
        gw.url,
        'POST',
        '/v1/chat/completions',
        { model: 'smart', stream, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
        'sk-x',
      );
      expect(reply.status).toBe(200);
      expect(reply.headers['x-pertoken-fallback-from']).toBe('gpt-4o');
      const recorded = await event(reply);
      expect(recorded).toMatchObject({ requested_model: 'smart', model: 'gpt-4o-mini-2024-07-18', status: 'ok' });
      expect(recorded?.usage_issues).toContain('fallback: gpt-4o via oa answered 503');
    }
  });

  it('passes the last failure on when the chain is exhausted', async () => {
    const reply = await chat(gw.url, 'sk-x', 'o3');
    expect(reply.status).toBe(503);
    const recorded = await event(reply);
    expect(recorded).toMatchObject({ requested_model: 'o3', model: 'o3', status: 'error', cost_nano: 0n });
  });

  it('falls back on a timeout and keeps the timed-out attempt as an event of its own', async () => {
    const reply = await chat(gw.url, 'sk-x', 'gpt-4.1', {}, { 'x-pertoken-tenant': 'timeouts' });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-pertoken-fallback-from']).toBe('gpt-4.1');
    const recorded = await event(reply);
    expect(recorded).toMatchObject({ requested_model: 'gpt-4.1', model: 'gpt-4o-mini-2024-07-18' });
    expect(recorded?.usage_issues).toContain('fallback: gpt-4.1 via oa failed (upstream_timeout)');
    const page = await gw.store.listEvents({ filter: { tenant: 'timeouts' }, limit: 10 });
    expect(page.events).toHaveLength(2);
    const attempt = page.events.find((e) => e.id !== recorded?.id);
    // The provider may bill a request it received: the prompt is estimated and priced.
    expect(attempt).toMatchObject({
      requested_model: 'gpt-4.1',
      model: 'gpt-4.1',
      status: 'interrupted',
      usage_source: 'estimated',
    });
    expect(attempt?.cost_nano).toBeGreaterThan(0n);
  });

  it('never falls back across wires', async () => {
    // gpt-4o-mini's fallback is an Anthropic model: an OpenAI body cannot go there, so it is skipped.
    const reply = await chat(gw.url, 'sk-x', 'gpt-4o-mini');
    expect(reply.status).toBe(200);
    expect(reply.headers['x-pertoken-fallback-from']).toBeUndefined();
  });
});
