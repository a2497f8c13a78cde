import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call, chat } from '../testing/http.js';

let demo: DemoUpstream;
let gw: GovernedHarness;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 5 });
  gw = await startHarness({ governance: true, adminToken: ADMIN, upstream: demo.url });
});
afterAll(async () => {
  await gw.close();
  await demo.close();
});

const post = (path: string, body: unknown) => call(gw.url, 'POST', path, body);

describe('rate limits', () => {
  it('applies a tenant RPM to header-attributed traffic in open mode', async () => {
    await post('/api/v1/admin/tenants', { id: 'limited', rpm: 2 });
    const headers = { 'x-pertoken-tenant': 'limited' };
    const first = await chat(gw.url, 'sk-x', 'gpt-4o-mini', {}, headers);
    expect(first.status).toBe(200);
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '1' });
    expect(first.headers['x-ratelimit-reset-requests']).toBe('1m0s');
    expect((await chat(gw.url, 'sk-x', 'gpt-4o-mini', {}, headers)).status).toBe(200);
    const refused = await chat(gw.url, 'sk-x', 'gpt-4o-mini', {}, headers);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({
      type: 'rate_limit_error',
      code: 'rate_limited',
      message: 'rate limit rpm:tenant:limited reached (2 requests per minute)',
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.headers['x-ratelimit-remaining-requests']).toBe('0');
    // Another tenant is untouched.
    expect((await chat(gw.url, 'sk-x', 'gpt-4o-mini', {}, { 'x-pertoken-tenant': 'free' })).status).toBe(200);
  });

  it('limits a key by RPM, the tighter of key and project TPM, and settles TPM to actual tokens', async () => {
    await post('/api/v1/admin/tenants', { id: 'rl-co' });
    await post('/api/v1/admin/projects', { id: 'rl-proj', tenant: 'rl-co', tpm: 100_000 });
    const { id, key } = (await post('/api/v1/admin/keys', { tenant: 'rl-co', project: 'rl-proj', rpm: 3, tpm: 1_000 }))
      .json as { id: string; key: string };
    const replies = [];
    for (let i = 0; i < 3; i++) {
      const reply = await chat(gw.url, key, 'gpt-4o-mini', { max_tokens: 400 });
      expect(reply.status).toBe(200);
      replies.push(reply);
    }
    expect(replies.map((r) => r.headers['x-ratelimit-remaining-requests'])).toEqual(['2', '1', '0']);
    expect(replies[0]?.headers['x-ratelimit-limit-tokens']).toBe('1000');
    // Each take is the prompt estimate + max_tokens; the first request was then corrected to its
    // actual tokens (the demo writes 64..256 of the 400 allowed).
    const remaining = replies.map((r) => Number(r.headers['x-ratelimit-remaining-tokens']));
    const reserve = 1000 - remaining[0]!;
    expect(reserve).toBeGreaterThanOrEqual(400);
    expect(reserve).toBeLessThan(430);
    await gw.store.flush();
    const first = await gw.store.getEvent(String(replies[0]?.headers['x-pertoken-request-id']));
    const actual = (first?.buckets.input ?? 0) + (first?.buckets.output ?? 0);
    expect(actual).toBeLessThan(reserve);
    expect(remaining[1]).toBe(1000 - actual - reserve);
    // The third request no longer fits in the minute: TPM refuses it before RPM runs out.
    const fourth = await chat(gw.url, key, 'gpt-4o-mini', { max_tokens: 400 });
    expect(fourth.status).toBe(429);
    expect((fourth.json.error as { message: string }).message).toMatch(
      new RegExp(`^rate limit (rpm|tpm):key:${id} reached`),
    );
  });

  it('refuses a request larger than the whole TPM without a retry-after', async () => {
    await post('/api/v1/admin/tenants', { id: 'tiny-co' });
    const { key } = (await post('/api/v1/admin/keys', { tenant: 'tiny-co', tpm: 500 })).json as { key: string };
    const reply = await chat(gw.url, key, 'gpt-4o-mini', { max_tokens: 1000 });
    expect(reply.status).toBe(429);
    expect((reply.json.error as { message: string }).message).toMatch(
      /needs up to 10\d\d tokens, more than the tpm:key:\w+ limit of 500 tokens per minute allows; lower max_tokens/,
    );
    expect(reply.headers['retry-after']).toBeUndefined();
    expect((await chat(gw.url, key, 'gpt-4o-mini', { max_tokens: 100 })).status).toBe(200);
  });

  it('limits requests for the models a model-scoped limit names, and no others', async () => {
    const created = await post('/api/v1/admin/tenants', {
      id: 'model-co',
      model_limits: [{ model: 'gpt-4o', rpm: 1 }],
    });
    expect(created.status).toBe(201);
    expect(created.json.model_limits).toEqual([{ model: 'gpt-4o', rpm: 1, tpm: null }]);
    // The key's own model limit adds a TPM on the o1 family.
    const { key } = (
      await post('/api/v1/admin/keys', { tenant: 'model-co', model_limits: [{ model: 'o1*', tpm: 100 }] })
    ).json as { key: string };
    expect((await chat(gw.url, key, 'gpt-4o')).status).toBe(200);
    const refused = await chat(gw.url, key, 'gpt-4o');
    expect(refused.status).toBe(429);
    expect((refused.json.error as { message: string }).message).toBe(
      'rate limit rpm:tenant:model-co:gpt-4o reached (1 requests per minute)',
    );
    const o1 = await chat(gw.url, key, 'o1-mini', { max_tokens: 500 });
    expect((o1.json.error as { message: string }).message).toMatch(
      /more than the tpm:key:\w+:o1\* limit of 100 tokens per minute allows/,
    );
    for (let i = 0; i < 3; i++) expect((await chat(gw.url, key, 'gpt-4o-mini')).status).toBe(200);
  });
});
