import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KV_CACHE_TOKENS } from './engine-metrics.js';
import { startDemoUpstream, type DemoUpstream } from './index.js';
import { openSse, postJson } from './testing/client.js';

/** GET /metrics: vLLM's metric names, computed from what the demo upstream is really doing. */

let up: DemoUpstream;
beforeAll(async () => {
  up = await startDemoUpstream({ seed: 5, ttftMs: 0, itlMs: 0, maxOutputTokens: 6 });
});
afterAll(() => up.close());

const chat = (model: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'how many tokens is this prompt?' }],
  ...extra,
});

async function scrape(): Promise<{ status: number; contentType: string; text: string }> {
  const res = await request(`${up.url}/metrics`);
  return { status: res.statusCode, contentType: String(res.headers['content-type']), text: await res.body.text() };
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([^{\s]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Polls `check` a bounded number of times (about 10 s), failing when it never holds. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('condition never held');
}

async function read(name: string, model: string, extra: Record<string, string> = {}): Promise<number | undefined> {
  return sample((await scrape()).text, name, { model_name: model, engine: '0', ...extra });
}

describe('demo upstream GET /metrics', () => {
  it('answers Prometheus text with vLLM metric types, outside the request counters', async () => {
    const before = up.requests;
    const first = await scrape();
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const [name, type] of [
      ['vllm:num_requests_running', 'gauge'],
      ['vllm:num_requests_waiting', 'gauge'],
      ['vllm:kv_cache_usage_perc', 'gauge'],
      ['vllm:prompt_tokens_total', 'counter'],
      ['vllm:generation_tokens_total', 'counter'],
      ['vllm:request_success_total', 'counter'],
    ]) {
      expect(first.text).toContain(`# TYPE ${name} ${type}\n`);
    }
    await scrape();
    expect(up.requests).toBe(before);
    expect(up.inFlight).toBe(0);
  });

  it('counts prompt and generation tokens as the replies report them, and the finished reason', async () => {
    const model = 'metrics-count';
    const whole = await postJson(`${up.url}/v1/chat/completions`, chat(model));
    const cut = await postJson(`${up.url}/v1/chat/completions`, chat(model, { max_tokens: 2 }));
    const usages = [whole, cut].map(
      (r) => (r.json as { usage: { prompt_tokens: number; completion_tokens: number } }).usage,
    );
    expect(usages[1]?.completion_tokens).toBe(2);

    expect(await read('vllm:prompt_tokens_total', model)).toBe(usages.reduce((s, u) => s + u.prompt_tokens, 0));
    expect(await read('vllm:generation_tokens_total', model)).toBe(usages.reduce((s, u) => s + u.completion_tokens, 0));
    expect(await read('vllm:request_success_total', model, { finished_reason: 'stop' })).toBe(1);
    expect(await read('vllm:request_success_total', model, { finished_reason: 'length' })).toBe(1);
    expect(await read('vllm:request_success_total', model, { finished_reason: 'abort' })).toBe(0);
    expect(await read('vllm:num_requests_running', model)).toBe(0);
    expect(await read('vllm:num_requests_waiting', model)).toBe(0);
    expect(await read('vllm:kv_cache_usage_perc', model)).toBe(0);
  });

  it('counts embeddings as prompt tokens and leaves token counting out', async () => {
    const embedded = await postJson(`${up.url}/v1/embeddings`, {
      model: 'metrics-embed',
      input: 'some words to embed',
    });
    const usage = (embedded.json as { usage: { prompt_tokens: number } }).usage;
    expect(await read('vllm:prompt_tokens_total', 'metrics-embed')).toBe(usage.prompt_tokens);
    expect(await read('vllm:generation_tokens_total', 'metrics-embed')).toBe(0);

    const counted = await postJson(`${up.url}/v1/messages/count_tokens`, {
      model: 'metrics-count-tokens',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(counted.status).toBe(200);
    expect(await read('vllm:prompt_tokens_total', 'metrics-count-tokens')).toBeUndefined();
  });

  it('shows a stalled stream as running with its KV, then as an abort with the tokens it sent', async () => {
    const model = 'metrics-stream';
    const stream = await openSse(
      `${up.url}/v1/chat/completions`,
      chat(model, { stream: true, stream_options: { include_usage: true } }),
      { 'x-demo-fault': 'stall-after:1' },
    );
    // The role chunk and the first content chunk go out together; then the stream stalls.
    expect(await stream.next()).not.toBeNull();
    expect(await read('vllm:num_requests_running', model)).toBe(1);
    const prompt = await read('vllm:prompt_tokens_total', model);
    expect(prompt).toBeGreaterThan(0);
    // A running request holds its prompt and its whole output (6 tokens) in the KV cache.
    expect(await read('vllm:kv_cache_usage_perc', model)).toBeCloseTo(((prompt ?? 0) + 6) / KV_CACHE_TOKENS, 12);

    stream.abort();
    await until(() => up.openStreams === 0);
    expect(await read('vllm:num_requests_running', model)).toBe(0);
    expect(await read('vllm:kv_cache_usage_perc', model)).toBe(0);
    expect(await read('vllm:request_success_total', model, { finished_reason: 'abort' })).toBe(1);
    // One content chunk of six went out: one token of six.
    expect(await read('vllm:generation_tokens_total', model)).toBe(1);
  });

  it('shows a request delayed before its schedule starts as waiting', async () => {
    const model = 'metrics-wait';
    const controller = new AbortController();
    const pending = request(`${up.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-demo-fault': 'slow-headers:60000' },
      body: JSON.stringify(chat(model)),
      signal: controller.signal,
    }).catch((err: unknown) => err);
    await until(async () => (await read('vllm:num_requests_waiting', model)) === 1);
    expect(await read('vllm:num_requests_running', model)).toBe(0);

    controller.abort();
    await pending;
    await until(() => up.inFlight === 0);
    expect(await read('vllm:num_requests_waiting', model)).toBe(0);
    expect(await read('vllm:prompt_tokens_total', model)).toBe(0);
  });
});
