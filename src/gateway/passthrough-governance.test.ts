import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd, parseUsd } from '../money.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';
import { startMediaUpstream, type MediaUpstream } from '../testing/media-upstream.js';

/** Pass-through routes under virtual keys, their scopes and model globs, and budgets. */
let upstream: MediaUpstream;
let gw: GovernedHarness;
const keys: Record<string, string> = {};

const post = (path: string, body: unknown) => call(gw.url, 'POST', path, body);
const client = (key: string | null) =>
  new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey: key ?? 'none',
    maxRetries: 0,
    ...(key === null ? { defaultHeaders: { authorization: null } } : {}),
  });

async function newKey(name: string, body: Record<string, unknown>): Promise<void> {
  const reply = await post('/api/v1/admin/keys', body);
  expect(reply.status).toBe(201);
  keys[name] = (reply.json as { key: string }).key;
}

beforeAll(async () => {
  upstream = await startMediaUpstream();
  gw = await startHarness({ governance: true, adminToken: ADMIN, upstream: upstream.url });
  for (const id of ['studio', 'broke', 'rich', 'painter', 'voice'])
    expect((await post('/api/v1/admin/tenants', { id })).status).toBe(201);
  await newKey('chat', { tenant: 'studio', scopes: ['chat'] });
  await newKey('read', { tenant: 'studio', scopes: ['read'] });
  await newKey('responses', { tenant: 'studio', scopes: ['responses'] });
  await newKey('gpt4o', { tenant: 'studio', scopes: ['chat'], models: ['gpt-4o*'] });
  await newKey('broke', { tenant: 'broke', scopes: ['chat'] });
  await newKey('rich', { tenant: 'rich', scopes: ['chat'] });
  await newKey('painter', { tenant: 'painter', scopes: ['chat'] });
  await newKey('voice', { tenant: 'voice', scopes: ['chat'] });
  for (const [id, tenant, limit] of [
    ['broke-day', 'broke', '0.01'],
    ['rich-day', 'rich', '5'],
    ['painter-day', 'painter', '0.10'],
    ['voice-day', 'voice', '1000'],
  ] as const) {
    expect(
      (await post('/api/v1/admin/budgets', { id, scope: { tenant }, period: 'day', limit_usd: limit })).status,
    ).toBe(201);
  }
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err.status ?? 0;
    throw err;
  }
}

describe('keys on pass-through routes', () => {
  it('a valid key with the scope goes through, attributed to its tenant', async () => {
    const { response } = await client(keys.chat ?? '')
      .images.generate({ model: 'dall-e-2', prompt: 'a boat', size: '256x256' })
      .withResponse();
    await gw.store.flush();
    expect(await gw.store.getEvent(response.headers.get('x-pertoken-request-id') ?? '')).toMatchObject({
      tenant: 'studio',
      route: 'openai.images.generations',
      cost_nano: 16_000_000n,
    });
  });

  it('no key is 401 once keys are required, on metered and control routes alike', async () => {
    const seen = upstream.seen.length;
    const none = client(null);
    expect(await statusOf(none.images.generate({ model: 'dall-e-2', prompt: 'x' }))).toBe(401);
    expect(await statusOf(none.responses.retrieve('resp_1'))).toBe(401);
    expect(await statusOf(none.models.retrieve('gpt-4o'))).toBe(401);
    expect(await statusOf(client('sk-not-a-key').moderations.create({ input: 'x' }))).toBe(401);
    // On Anthropic's wire the refusal is in Anthropic's shape, so its SDK raises its own class.
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-not-a-key', maxRetries: 0 });
    const error = await anthropic.models.retrieve('claude-sonnet-4-5').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
    expect(upstream.seen.length).toBe(seen);
  });

  it('a key without the route’s scope is 403 and nothing reaches the upstream', async () => {
    const seen = upstream.seen.length;
    const read = client(keys.read ?? '');
    const error = await read.images.generate({ model: 'dall-e-2', prompt: 'x' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((error as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toContain('has no "chat" scope');
    expect(
      await statusOf(
        read.audio.transcriptions.create({ file: await toFile(Buffer.alloc(10), 'a.mp3'), model: 'whisper-1' }),
      ),
    ).toBe(403);
    expect(await statusOf(read.responses.retrieve('resp_1'))).toBe(403);
    const responses = client(keys.responses ?? '');
    expect(await statusOf(responses.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x' }))).toBe(403);
    expect(upstream.seen.length).toBe(seen);
    // The scope of a stored response is `responses`, which that key has.
    expect((await responses.responses.retrieve('resp_9')).id).toBe('resp_9');
    // Any valid key may look a model up, as it may list them.
    expect((await read.models.retrieve('gpt-4o')).id).toBe('gpt-4o');
  });

  it('a key’s model globs hold for media models too', async () => {
    const narrow = client(keys.gpt4o ?? '');
    const error = await narrow.images.generate({ model: 'dall-e-3', prompt: 'x' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((error as Error).message).toContain('may not use model "dall-e-3"');
    // The endpoint's default model is what the key is checked against when the body names none.
    expect(await statusOf(narrow.moderations.create({ input: 'x' }))).toBe(403);
  });
});

describe('budgets on pass-through routes', () => {
  it('a block budget refuses a metered call whose worst case does not fit, before it leaves', async () => {
    const seen = upstream.seen.length;
    const error = await client(keys.broke ?? '')
      .images.generate({ model: 'gpt-image-1', prompt: 'an expensive picture' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((error as Error).message).toContain('budget "broke-day" is exhausted');
    expect(upstream.seen.length).toBe(seen);
  });

  it('an admitted call settles its budget to the event’s cost', async () => {
    const { response } = await client(keys.rich ?? '')
      .images.generate({ model: 'gpt-image-1', prompt: 'a picture' })
      .withResponse();
    expect(response.headers.get('x-pertoken-budget-remaining-usd')).toMatch(/^\d+\.\d{9}$/);
    await gw.store.flush();
    const event = await gw.store.getEvent(response.headers.get('x-pertoken-request-id') ?? '');
    expect(event?.cost_nano).toBe(50n * 5000n + 10n * 10_000n + 4160n * 40_000n);
    const budgets = (await call(gw.url, 'GET', '/api/v1/budgets')).json.budgets as Array<Record<string, unknown>>;
    expect(budgets.find((b) => b.id === 'rich-day')).toMatchObject({
      spent_usd: '0.166750000',
      reserved_usd: '0.000000000',
    });
  });

  it('a call its request prices (DALL·E per image) reserves exactly that price, not a token worst case', async () => {
    // dall-e-3 standard 1024x1024 is $0.04 an image: two fit a $0.10 budget, the third does not.
    const painter = client(keys.painter ?? '');
    const seen = upstream.seen.length;
    const paint = () => painter.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse', n: 1 }).withResponse();
    const first = await paint();
    expect(first.response.headers.get('x-pertoken-budget-remaining-usd')).toBe('0.060000000');
    expect(first.response.headers.get('x-pertoken-budget-price')).toBeNull();
    await paint();
    const error = await paint().catch((err: unknown) => err);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((error as Error).message).toContain('may cost up to $0.040000000');
    expect(upstream.seen.length).toBe(seen + 2);
  });

  it('an unpriced call with no token usage is charged what was reserved for it, never $0', async () => {
    // gpt-4o-mini-tts is reserved at its token worst case, but plain audio reports no usage and the
    // book has no per-character price: the event is unpriced with nothing to apply a price to.
    const { response } = await client(keys.voice ?? '')
      .audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'Hi' })
      .withResponse();
    const reserved = 1000_000_000_000n - parseUsd(response.headers.get('x-pertoken-budget-remaining-usd') ?? '');
    expect(reserved).toBeGreaterThan(0n);
    await gw.store.flush();
    expect((await gw.store.getEvent(response.headers.get('x-pertoken-request-id') ?? ''))?.cost_nano).toBeNull();
    const budgets = (await call(gw.url, 'GET', '/api/v1/budgets')).json.budgets as Array<Record<string, unknown>>;
    expect(budgets.find((b) => b.id === 'voice-day')).toMatchObject({
      spent_usd: formatUsd(reserved),
      reserved_usd: '0.000000000',
    });
  });
});
