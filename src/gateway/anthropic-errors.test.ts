import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';

/**
 * The errors pertoken itself answers, seen by the official SDKs unchanged: on the Anthropic wire
 * in Anthropic's shape (`{"type":"error","error":{"type","message"}}`), so that @anthropic-ai/sdk
 * raises its class for the status and reads the error's type; the OpenAI wire keeps OpenAI's.
 */
let demo: DemoUpstream;
let gw: GovernedHarness;
const keys: Record<string, string> = {};

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 23 });
  gw = await startHarness({
    governance: true,
    adminToken: ADMIN,
    upstream: demo.url,
    config: { server: { max_body_bytes: 64 * 1024 } },
  });
  const post = (path: string, body: unknown) => call(gw.url, 'POST', path, body);
  for (const tenant of [{ id: 'acme' }, { id: 'broke' }, { id: 'limited', rpm: 1 }])
    expect((await post('/api/v1/admin/tenants', tenant)).status).toBe(201);
  expect(
    (await post('/api/v1/admin/budgets', { id: 'b', scope: { tenant: 'broke' }, period: 'day', limit_usd: '0.000001' }))
      .status,
  ).toBe(201);
  for (const [name, body] of Object.entries({
    acme: { tenant: 'acme' },
    broke: { tenant: 'broke' },
    limited: { tenant: 'limited' },
    reader: { tenant: 'acme', scopes: ['read'] },
  })) {
    const reply = await post('/api/v1/admin/keys', body);
    expect(reply.status).toBe(201);
    keys[name] = (reply.json as { key: string }).key;
  }
});
afterAll(async () => {
  await gw.close();
  await demo.close();
});

const anthropic = (key: string | null): Anthropic =>
  new Anthropic({ baseURL: gw.url, apiKey: key ?? 'sk-ant-not-a-virtual-key', maxRetries: 0 });
const message = {
  model: 'claude-3-5-haiku-latest',
  max_tokens: 16,
  messages: [{ role: 'user' as const, content: 'Hi' }],
};

async function failure(promise: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Anthropic.APIError);
  return err as InstanceType<typeof Anthropic.APIError>;
}

describe('@anthropic-ai/sdk sees Anthropic-shaped errors from pertoken', () => {
  it.each([
    [
      'a key it does not know',
      () => anthropic(null).messages.create(message),
      Anthropic.AuthenticationError,
      401,
      'authentication_error',
    ],
    [
      'a key without the messages scope',
      () => anthropic(keys.reader!).messages.create(message),
      Anthropic.PermissionDeniedError,
      403,
      'permission_error',
    ],
    [
      'an exhausted budget',
      () => anthropic(keys.broke!).messages.create(message),
      Anthropic.PaymentRequiredError,
      402,
      'billing_error',
    ],
    [
      'a bad body',
      () => anthropic(keys.acme!).messages.create({ ...message, max_tokens: 'many' as never }),
      Anthropic.BadRequestError,
      400,
      'invalid_request_error',
    ],
    [
      'a body over the limit',
      () => anthropic(keys.acme!).messages.create({ ...message, system: 'x'.repeat(70_000) }),
      Anthropic.ContentTooLargeError,
      413,
      'request_too_large',
    ],
    [
      'an upstream that resets',
      () => anthropic(keys.acme!).messages.create(message, { headers: { 'x-demo-fault': 'reset' } }),
      Anthropic.InternalServerError,
      502,
      'api_error',
    ],
  ] as const)('%s', async (_name, send, errorClass, status, type) => {
    const err = await failure(send());
    expect(err).toBeInstanceOf(errorClass);
    expect(err.status).toBe(status);
    expect(err.type).toBe(type);
    expect(err.error).toEqual({ type: 'error', error: { type, message: expect.any(String) } });
    expect(err.headers?.get('x-pertoken-request-id')).toBeTruthy();
  });

  it('a rate limit: RateLimitError, with retry-after and pertoken headers kept', async () => {
    const client = anthropic(keys.limited!);
    await client.messages.create(message);
    const err = await failure(client.messages.create(message));
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.type).toBe('rate_limit_error');
    expect(err.error).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.any(String) } });
    expect(Number(err.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(err.headers?.get('x-pertoken-request-id')).toBeTruthy();
    expect(err.headers?.get('content-type')).toMatch(/^application\/json/);
  });

  it('the model listing on the Anthropic wire answers a missing key in Anthropic shape', async () => {
    const err = await failure(anthropic(null).models.list());
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});

describe('the OpenAI wire is unchanged', () => {
  const openai = (key: string): OpenAI => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  const chat = { model: 'gpt-4o-mini', max_tokens: 8, messages: [{ role: 'user' as const, content: 'Hi' }] };

  it.each([
    [
      '401',
      () => openai('sk-nope').chat.completions.create(chat),
      OpenAI.AuthenticationError,
      'unauthorized',
      'authentication_error',
    ],
    [
      '402',
      () => openai(keys.broke!).chat.completions.create(chat),
      OpenAI.APIError,
      'budget_exceeded',
      'insufficient_quota',
    ],
    [
      '403',
      () => openai(keys.reader!).chat.completions.create(chat),
      OpenAI.PermissionDeniedError,
      'forbidden',
      'permission_error',
    ],
  ] as const)('%s keeps {"error":{type,code,message,param}}', async (_status, send, errorClass, code, type) => {
    const err = (await send().then(
      () => null,
      (e: unknown) => e,
    )) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(errorClass);
    expect(err.code).toBe(code);
    expect(err.type).toBe(type);
    expect(err.error).toMatchObject({ type, code, message: expect.any(String) });
    expect(Object.keys(err.error as object).sort()).toEqual(['code', 'message', 'param', 'type']);
  });
});
