import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import OpenAI, { toFile } from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Router } from '../http/index.js';
import type { UsageEvent } from '../ledger/index.js';
import { PASSTHROUGH_ROUTES } from '../providers/index.js';
import { startHarness, type Harness } from '../testing/harness.js';
import { eventually } from '../testing/http.js';
import { startMediaUpstream, type MediaUpstream } from '../testing/media-upstream.js';
import type { GatewayDeps } from './deps.js';
import { registerGatewayRoutes } from './routes.js';

/**
 * The routes the gateway passes through, driven by the official SDK against a scripted upstream:
 * each call reaches the upstream unchanged, its answer comes back unchanged, and the ledger holds
 * the event it cost (or says it is unpriced).
 */
let upstream: MediaUpstream;
let gateway: Harness;
let openai: OpenAI;
const MAX_BODY = 256 * 1024;

beforeAll(async () => {
  upstream = await startMediaUpstream();
  gateway = await startHarness({ upstream: upstream.url, config: { server: { max_body_bytes: MAX_BODY } } });
  openai = new OpenAI({
    baseURL: `${gateway.url}/v1`,
    apiKey: 'sk-client',
    maxRetries: 0,
    defaultHeaders: { 'x-pertoken-tenant': 'media', 'x-pertoken-feature': 'studio' },
  });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

async function eventOf(headers: Headers): Promise<UsageEvent> {
  const id = headers.get('x-pertoken-request-id') ?? '';
  await gateway.store.flush();
  const event = await gateway.store.getEvent(id);
  if (!event) throw new Error(`no event ${id}`);
  return event;
}

const lastSeen = (path: string) => [...upstream.seen].reverse().find((s) => s.path.startsWith(path));

describe('every pass-through route is registered', () => {
  it('lists them all: a route added to the table is served, none is forgotten', () => {
    const router = new Router();
    registerGatewayRoutes(router, {} as GatewayDeps);
    const served = router.routes().map((r) => `${r.method} ${r.pattern}`);
    const expected = [
      'POST /v1/images/generations',
      'POST /v1/images/edits',
      'POST /v1/images/variations',
      'POST /v1/audio/speech',
      'POST /v1/audio/transcriptions',
      'POST /v1/audio/translations',
      'POST /v1/moderations',
      'GET /v1/responses/:id',
      'DELETE /v1/responses/:id',
      'GET /v1/responses/:id/input_items',
      'POST /v1/responses/:id/cancel',
      'POST /v1/responses/input_tokens',
      'GET /v1/chat/completions',
      'GET /v1/chat/completions/:id',
      'POST /v1/chat/completions/:id',
      'DELETE /v1/chat/completions/:id',
      'GET /v1/chat/completions/:id/messages',
      'GET /v1/models/:id',
    ];
    expect(PASSTHROUGH_ROUTES.map((r) => `${r.method} ${r.clientPath}`)).toEqual(expected);
    for (const route of expected) expect(served).toContain(route);
    // Metered routes are model calls of a `chat` key; control routes need their resource's scope.
    expect(Object.fromEntries(PASSTHROUGH_ROUTES.map((r) => [r.id, [r.meter !== null, r.scopeOf]]))).toEqual({
      'openai.images.generations': [true, 'openai.chat'],
      'openai.images.edits': [true, 'openai.chat'],
      'openai.images.variations': [true, 'openai.chat'],
      'openai.audio.speech': [true, 'openai.chat'],
      'openai.audio.transcriptions': [true, 'openai.chat'],
      'openai.audio.translations': [true, 'openai.chat'],
      'openai.moderations': [true, 'openai.chat'],
      'openai.responses.retrieve': [false, 'openai.responses'],
      'openai.responses.delete': [false, 'openai.responses'],
      'openai.responses.input_items': [false, 'openai.responses'],
      'openai.responses.cancel': [false, 'openai.responses'],
      'openai.responses.input_tokens': [false, 'openai.responses'],
      'openai.chat.list': [false, 'openai.chat'],
      'openai.chat.retrieve': [false, 'openai.chat'],
      'openai.chat.update': [false, 'openai.chat'],
      'openai.chat.delete': [false, 'openai.chat'],
      'openai.chat.messages': [false, 'openai.chat'],
      'models.retrieve': [false, null],
    });
  });
});

describe('images', () => {
  it('DALL·E: priced per image by quality and size, the cost in a header', async () => {
    const { data, response } = await openai.images
      .generate({ model: 'dall-e-3', prompt: 'a lighthouse', n: 2, size: '1024x1792', quality: 'hd' })
      .withResponse();
    expect(data.data).toHaveLength(2);
    const sent = lastSeen('/v1/images/generations');
    expect(JSON.parse(sent?.body.toString() ?? '{}')).toMatchObject({ model: 'dall-e-3', n: 2, quality: 'hd' });
    // The caller's key never travels; the upstream's does.
    expect(sent?.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(response.headers.get('x-pertoken-cost-usd')).toBe('0.240000000');
    expect(await eventOf(response.headers)).toMatchObject({
      tenant: 'media',
      feature: 'studio',
      route: 'openai.images.generations',
      requested_model: 'dall-e-3',
      status: 'ok',
      cost_nano: 240_000_000n,
      price_ref: 'pertoken-media@2025-06:openai/dall-e-3@2023-11-06;image=hd/1024x1792',
      raw_usage: { kind: 'images', count: 2, size: '1024x1792', quality: 'hd' },
      buckets: {},
    });
  });

  it('gpt-image-1: priced by the usage tokens of the answer', async () => {
    const { data, response } = await openai.images.generate({ model: 'gpt-image-1', prompt: 'a fox' }).withResponse();
    expect(data.usage?.output_tokens).toBe(4160);
    const event = await eventOf(response.headers);
    expect(event.buckets).toEqual({ input: 50, input_image: 10, output: 4160 });
    expect(event.cost_nano).toBe(50n * 5000n + 10n * 10_000n + 4160n * 40_000n);
    expect(event.usage_issues).toContain("output_image priced at the model's output rate (it lists no own rate)");
  });

  it('an upstream refusal is relayed as it is and not billed', async () => {
    const form = new FormData();
    form.append('model', 'dall-e-2');
    form.append('image', new Blob([randomBytes(1000)]), 'a.png');
    const res = await fetch(`${gateway.url}/v1/images/edits`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { message: 'image too small', param: 'image' } });
    expect(await eventOf(res.headers)).toMatchObject({
      status: 'error',
      http_status: 400,
      cost_nano: 0n,
      price_ref: 'not-billed',
    });
  });
});

describe('audio', () => {
  it('speech: the audio bytes come back unchanged, priced per character', async () => {
    const input = 'The quick brown fox jumps over the lazy dog.';
    const response = await openai.audio.speech.create({ model: 'tts-1', voice: 'alloy', input });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(upstream.audio)).toBe(true);
    expect(response.headers.get('content-type')).toBe('audio/mpeg');
    // 44 characters × $15 per 1M.
    expect(response.headers.get('x-pertoken-cost-usd')).toBe('0.000660000');
    expect(await eventOf(response.headers)).toMatchObject({
      route: 'openai.audio.speech',
      cost_nano: 660_000n,
      raw_usage: { kind: 'characters', count: 44 },
      status: 'ok',
    });
  });

  it('speech by a token-billed model without usage in its answer is recorded unpriced, never $0', async () => {
    const response = await openai.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'Hi' });
    expect(Buffer.from(await response.arrayBuffer()).equals(upstream.audio)).toBe(true);
    expect(response.headers.get('x-pertoken-price-status')).toBe('unpriced');
    const event = await eventOf(response.headers);
    expect(event.cost_nano).toBeNull();
    expect(event.usage_issues).toContain('unpriced: no per-character price for openai/gpt-4o-mini-tts');
  });

  it('speech as an event stream is priced from its usage event', async () => {
    const res = await request(`${gateway.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'Hi', stream_format: 'sse' }),
    });
    const text = await res.body.text();
    expect(text).toContain('speech.audio.done');
    await gateway.store.flush();
    const event = await gateway.store.getEvent(String(res.headers['x-pertoken-request-id']));
    expect(event).toMatchObject({ streamed: true, buckets: { input: 12, output: 300 } });
    expect(event?.cost_nano).toBe(12n * 600n + 300n * 12_000n);
  });

  it('transcription (multipart): the file reaches the upstream intact, priced by the answer’s duration', async () => {
    const audio = randomBytes(120_000);
    const { data, response } = await openai.audio.transcriptions
      .create({ file: await toFile(audio, 'speech.mp3'), model: 'whisper-1' })
      .withResponse();
    expect(data.text).toBe('hello there');
    const sent = lastSeen('/v1/audio/transcriptions');
    const file = sent?.form?.get('file');
    expect(file).toBeInstanceOf(Blob);
    expect(Buffer.from(await (file as Blob).arrayBuffer()).equals(audio)).toBe(true);
    expect(sent?.form?.get('model')).toBe('whisper-1');
    // 125 s at $0.36 per hour.
    expect(response.headers.get('x-pertoken-cost-usd')).toBe('0.012500000');
    expect(await eventOf(response.headers)).toMatchObject({
      route: 'openai.audio.transcriptions',
      requested_model: 'whisper-1',
      cost_nano: 12_500_000n,
      price_ref: 'genai-prices@0.1.8:openai/whisper-1;per=input_audio_hours',
    });
  });

  it('transcription by a token-billed model, whole and streamed', async () => {
    const file = await toFile(randomBytes(2000), 'a.wav');
    const { response } = await openai.audio.transcriptions.create({ file, model: 'gpt-4o-transcribe' }).withResponse();
    const expected = 20n * 2500n + 100n * 6000n + 40n * 10_000n;
    expect((await eventOf(response.headers)).cost_nano).toBe(expected);

    const stream = await openai.audio.transcriptions.create({
      file: await toFile(randomBytes(2000), 'b.wav'),
      model: 'gpt-4o-transcribe',
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['transcript.text.delta', 'transcript.text.done']);
    await gateway.store.flush();
    const [event] = (await gateway.store.listEvents({ filter: { tenant: 'media' }, limit: 1 })).events;
    expect(event).toMatchObject({ route: 'openai.audio.transcriptions', streamed: true, cost_nano: expected });
  });

  it('a transcription answered as plain text has no duration: unpriced, with the reason', async () => {
    const { data, response } = await openai.audio.transcriptions
      .create({ file: await toFile(randomBytes(500), 'c.mp3'), model: 'whisper-1', response_format: 'text' })
      .withResponse();
    expect(data).toBe('hello there\n');
    const event = await eventOf(response.headers);
    expect(event.cost_nano).toBeNull();
    expect(event.usage_issues[0]).toMatch(/^unpriced: the answer reported no usage and no billable units/);
  });

  it('a form that names its model first is streamed upstream, never held whole', async () => {
    const boundary = 'pertoken-test-boundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.mp3"\r\nContent-Type: audio/mpeg\r\n\r\n`,
    );
    // Four times what the gateway would hold in memory.
    const audio = randomBytes(4 * MAX_BODY);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const whole = Buffer.concat([head, audio, tail]);
    const body = new PassThrough();
    const pending = request(`${gateway.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(whole.length) },
      body,
    });
    body.write(whole.subarray(0, head.length + 1000));
    // The upstream sees the form's first bytes while the client has not finished sending it.
    expect(await eventually(async () => (upstream.arriving.get('/v1/audio/transcriptions') ?? 0) > 0, 5000)).toBe(true);
    body.end(whole.subarray(head.length + 1000));
    const res = await pending;
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect(lastSeen('/v1/audio/transcriptions')?.sha256).toBe(createHash('sha256').update(whole).digest('hex'));
  });

  it('a file sent before its model is held only up to server.max_body_bytes', async () => {
    const form = new FormData();
    form.append('file', new Blob([randomBytes(MAX_BODY + 1)]), 'big.mp3');
    form.append('model', 'whisper-1');
    const res = await fetch(`${gateway.url}/v1/audio/translations`, { method: 'POST', body: form });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'body_too_large', param: 'model' } });
  });
});

describe('moderation and control routes', () => {
  it('moderation: free by the price book, recorded at $0 with its price reference', async () => {
    const { response } = await openai.moderations.create({ input: 'hello' }).withResponse();
    expect(response.headers.get('x-pertoken-cost-usd')).toBe('0.000000000');
    expect(await eventOf(response.headers)).toMatchObject({
      route: 'openai.moderations',
      requested_model: 'omni-moderation-latest',
      model: 'omni-moderation-2024-09-26',
      cost_nano: 0n,
      price_ref: 'genai-prices@0.1.8:openai/moderation;free',
    });
  });

  it('a stored response is fetched through, query included, and costs no event', async () => {
    const before = (await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length;
    const response = await openai.responses.retrieve('resp_abc123', { include: ['message.output_text.logprobs'] });
    expect(response.id).toBe('resp_abc123');
    expect(response.output_text).toBe('stored');
    const sent = lastSeen('/v1/responses/resp_abc123');
    expect(sent?.method).toBe('GET');
    expect(decodeURIComponent(sent?.path ?? '')).toContain('include[]=message.output_text.logprobs');
    await gateway.store.flush();
    expect((await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length).toBe(before);
  });

  it('a model is looked up on the wire the SDK speaks', async () => {
    expect(await openai.models.retrieve('gpt-4o')).toMatchObject({ id: 'gpt-4o', object: 'model' });
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-ant-client', maxRetries: 0 });
    expect(await anthropic.models.retrieve('claude-sonnet-4-5')).toMatchObject({
      type: 'model',
      id: 'claude-sonnet-4-5',
    });
    expect(lastSeen('/v1/models/claude-sonnet-4-5')?.headers['x-api-key']).toBe('sk-ant-upstream-secret');
  });
});

describe('an upstream that cannot be reached', () => {
  it('answers 502 and bills nothing: the call never left', async () => {
    const dead = await startHarness({ upstream: 'http://127.0.0.1:1' });
    try {
      const res = await request(`${dead.url}/v1/images/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'dall-e-3', prompt: 'x' }),
      });
      expect(res.statusCode).toBe(502);
      expect(await res.body.json()).toMatchObject({ error: { code: 'upstream_unreachable' } });
      await dead.store.flush();
      expect(await dead.store.getEvent(String(res.headers['x-pertoken-request-id']))).toMatchObject({
        status: 'error',
        cost_nano: 0n,
        price_ref: 'not-billed',
      });
    } finally {
      await dead.close();
    }
  });
});
