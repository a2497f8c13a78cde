import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/index.js';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { PertokenError } from '../errors.js';
import { formatUsd, mulDivHalfEven } from '../money.js';
import { compilePools, type Pool } from './pools.js';
import { parseExposition } from './prometheus-text.js';
import { readEngine } from './serving-engines.js';
import { PoolTelemetry, telemetryTargets, type ScrapeFetch, type TelemetryTarget } from './telemetry.js';

/**
 * 2 GPUs at $2.50 per GPU-hour: $5/h = 5e9 nano-USD an hour, from 2026-01-01 on. Capacity
 * 1000 input + 4 × 500 output tokens/s = 3000 input-token units/s.
 */
function testPool(urls: string[], from = '2026-01-01'): Pool {
  const config = configSchema.parse({
    gpu_pools: [
      {
        name: 'h100-east',
        gpus: 2,
        rates: [{ from, usd_per_gpu_hour: '2.50' }],
        serves: ['acme-vllm'],
        capacity: { output_tokens_per_s: 500, input_tokens_per_s: 1000 },
        output_weight: 4,
        metrics: { urls },
      },
    ],
  });
  const [pool] = compilePools(config.gpu_pools, []);
  if (!pool) throw new Error('no pool');
  return pool;
}

const NOW = Date.parse('2026-11-10T12:00:00Z');

function target(urls: string[], timeoutMs = 2000): TelemetryTarget {
  return { pool: testPool(urls), intervalMs: 15_000, timeoutMs };
}

/** A clock tests move by hand. */
function fakeClock(start = NOW): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}

const vllm = (v: { running?: number; waiting?: number; kv?: number; prompt: number; generation: number }): string =>
  [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{engine="0",model_name="llama"} ${v.running ?? 0}`,
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{engine="0",model_name="llama"} ${v.waiting ?? 0}`,
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc{engine="0",model_name="llama"} ${v.kv ?? 0}`,
    '# TYPE vllm:prompt_tokens_total counter',
    `vllm:prompt_tokens_total{engine="0",model_name="llama"} ${v.prompt.toFixed(1)}`,
    `vllm:prompt_tokens_created{engine="0",model_name="llama"} 1.7e+09`,
    '# TYPE vllm:generation_tokens_total counter',
    `vllm:generation_tokens_total{engine="0",model_name="llama"} ${v.generation.toFixed(1)}`,
    '',
  ].join('\n');

const sglang = (v: { running: number; queue: number; usage: number; prompt: number; generation: number }): string =>
  [
    '# TYPE sglang:num_running_reqs gauge',
    `sglang:num_running_reqs{model_name="qwen"} ${v.running}`,
    '# TYPE sglang:num_queue_reqs gauge',
    `sglang:num_queue_reqs{model_name="qwen"} ${v.queue}`,
    '# TYPE sglang:token_usage gauge',
    `sglang:token_usage{model_name="qwen"} ${v.usage}`,
    '# TYPE sglang:gen_throughput gauge',
    'sglang:gen_throughput{model_name="qwen"} 123.4',
    '# TYPE sglang:prompt_tokens_total counter',
    `sglang:prompt_tokens_total{model_name="qwen"} ${v.prompt.toExponential()}`,
    '# TYPE sglang:generation_tokens_total counter',
    `sglang:generation_tokens_total{model_name="qwen"} ${v.generation.toExponential()}`,
    '',
  ].join('\n');

/** A fetch answering each URL from its own script, one entry per call (an Error is thrown). */
function scripted(script: Record<string, Array<string | Error>>): { fetch: ScrapeFetch; calls: string[] } {
  const calls: string[] = [];
  const fetch: ScrapeFetch = async (url) => {
    calls.push(url);
    const next = script[url]?.shift();
    if (next === undefined) throw new Error(`no scripted answer for ${url}`);
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch, calls };
}

describe('parseExposition', () => {
  it('reads TYPE lines, labels with escapes, NaN and infinities, and skips the rest', () => {
    const text = [
      '# HELP x_total A counter.',
      '# TYPE x_total counter',
      'x_total{a="1",b="quote \\" back\\\\slash \\n newline",} 42 1700000000000',
      'x_total{ a = "2" } 1.5e3',
      '# TYPE y gauge',
      'y NaN',
      'y{k="pos"} +Inf',
      'y{k="neg"} -Inf',
      'h_bucket{le="+Inf"} 3',
      'this line is { garbage',
      'z{unterminated="x} 1',
      'w 12abc',
      '# EOF',
      '',
    ].join('\r\n');
    const parsed = parseExposition(text);
    expect(parsed.types.get('x_total')).toBe('counter');
    expect(parsed.types.get('y')).toBe('gauge');
    expect(parsed.samples.get('x_total')).toEqual([
      { name: 'x_total', labels: { a: '1', b: 'quote " back\\slash \n newline' }, value: 42 },
      { name: 'x_total', labels: { a: '2' }, value: 1500 },
    ]);
    const y = parsed.samples.get('y') ?? [];
    expect(y.map((s) => s.value)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(parsed.samples.get('h_bucket')?.[0]?.labels).toEqual({ le: '+Inf' });
    expect(parsed.skipped).toBe(3);
  });

  it('refuses an exposition over the size bound', () => {
    expect(() => parseExposition('a 1\n'.repeat(1024 * 1024 + 1))).toThrow(PertokenError);
  });
});

describe('readEngine', () => {
  it('recognises vLLM, including the pre-0.9 KV gauge name, and sums series', () => {
    const reading = readEngine(
      parseExposition(
        [
          'vllm:num_requests_running{engine="0",model_name="m"} 2.0',
          'vllm:num_requests_running{engine="1",model_name="m"} 3.0',
          'vllm:num_requests_waiting{engine="0",model_name="m"} 1.0',
          'vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.2',
          'vllm:gpu_cache_usage_perc{engine="1",model_name="m"} 0.4',
          'vllm:prompt_tokens_total{engine="0",model_name="m"} 100.0',
          'vllm:prompt_tokens_total{engine="1",model_name="m"} NaN',
        ].join('\n'),
      ),
    );
    expect(reading).toEqual({
      engine: 'vllm',
      running: 5,
      waiting: 1,
      kvCacheUsage: expect.closeTo(0.3, 12) as unknown as number,
      promptTokens: 100,
      generationTokens: null,
      generationTokensPerS: null,
    });
  });

  it('recognises SGLang and TGI by their own names', () => {
    expect(
      readEngine(parseExposition(sglang({ running: 4, queue: 2, usage: 0.5, prompt: 8.1e6, generation: 7.5e6 }))),
    ).toEqual({
      engine: 'sglang',
      running: 4,
      waiting: 2,
      kvCacheUsage: 0.5,
      promptTokens: 8.1e6,
      generationTokens: 7.5e6,
      generationTokensPerS: 123.4,
    });
    const tgi = [
      '# TYPE tgi_queue_size gauge',
      'tgi_queue_size 3',
      '# TYPE tgi_batch_current_size gauge',
      'tgi_batch_current_size 7',
      '# TYPE tgi_request_generated_tokens histogram',
      'tgi_request_generated_tokens_bucket{le="+Inf"} 10',
      'tgi_request_generated_tokens_sum 2500',
      'tgi_request_generated_tokens_count 10',
      'tgi_request_input_length_sum 9000',
      'tgi_request_input_length_count 10',
    ].join('\n');
    expect(readEngine(parseExposition(tgi))).toEqual({
      engine: 'tgi',
      running: 7,
      waiting: 3,
      kvCacheUsage: null,
      promptTokens: 9000,
      generationTokens: 2500,
      generationTokensPerS: null,
    });
    expect(readEngine(parseExposition('process_cpu_seconds_total 12\nup 1\n'))).toBeNull();
    // A fresh engine declares its labelled families before it has any series: they read 0.
    expect(
      readEngine(
        parseExposition(
          '# TYPE tgi_queue_size gauge\n# TYPE tgi_request_generated_tokens histogram\n# TYPE x counter\n',
        ),
      ),
    ).toMatchObject({ engine: 'tgi', running: 0, waiting: 0, promptTokens: null, generationTokens: 0 });
  });
});

describe('PoolTelemetry (scripted engines, fake clock)', () => {
  const A = 'http://engine-a.test/metrics';
  const B = 'http://engine-b.test/metrics';

  it('derives rates, queue, KV, busy share and the exact live cost from consecutive scrapes', async () => {
    const clock = fakeClock();
    const { fetch } = scripted({
      // A (vLLM) idles for 10 s, then counts 3000 + 1500 tokens in 15 s with 2 running.
      [A]: [
        vllm({ prompt: 0, generation: 0 }),
        vllm({ prompt: 0, generation: 0 }),
        vllm({ running: 2, kv: 0.25, prompt: 3000, generation: 1500 }),
      ],
      // B (SGLang) fails its second scrape; its rate then spans 25 s: 2000 + 3000 tokens.
      [B]: [
        sglang({ running: 0, queue: 0, usage: 0, prompt: 0, generation: 0 }),
        new PertokenError('upstream_error', 'HTTP 500 from the metrics endpoint'),
        sglang({ running: 1, queue: 4, usage: 0.75, prompt: 2000, generation: 3000 }),
      ],
    });
    const telemetry = new PoolTelemetry([target([A, B])], { now: clock.now, fetch });

    await telemetry.scrapeNow();
    expect(telemetry.snapshot('h100-east')).toBeNull();

    clock.advance(10_000);
    await telemetry.scrapeNow();
    const second = telemetry.snapshot('h100-east');
    expect(second?.urls).toEqual([
      { url: A, ok: true, engine: 'vllm', scrapes: 2, errors: 0 },
      { url: B, ok: false, engine: 'sglang', scrapes: 2, errors: 1, error: 'HTTP 500 from the metrics endpoint' },
    ]);
    // Only A is live: idle, no tokens, so no cost per token yet.
    expect(second).toMatchObject({ running: 0, waiting: 0, prompt_tokens_per_s: 0, busy_share: 0 });
    expect(second?.live_cost_per_mtok_usd).toBeNull();

    clock.advance(15_000);
    await telemetry.scrapeNow();
    const third = telemetry.snapshot('h100-east');
    expect(third).toEqual({
      pool: 'h100-east',
      scraped_at: new Date(NOW + 25_000).toISOString(),
      urls: [
        { url: A, ok: true, engine: 'vllm', scrapes: 3, errors: 0 },
        { url: B, ok: true, engine: 'sglang', scrapes: 3, errors: 1, error: 'HTTP 500 from the metrics endpoint' },
      ],
      running: 3,
      waiting: 4,
      kv_cache_usage: 0.5,
      // A: 3000/15 + B: 2000/25; A: 1500/15 + B: 3000/25.
      prompt_tokens_per_s: 280,
      generation_tokens_per_s: 220,
      // A idle 10 s, busy 15 s; B busy 25 s.
      busy_share: 0.8,
      // (280 + 4 × 220) / 3000
      gpu_utilization: 0.3867,
      cost_usd_per_hour: '5.000000000',
      // 500 tokens/s = 1.8M an hour: $5 / 1.8 = 2.7777777777… -> half-even at the nano.
      live_cost_per_mtok_usd: '2.777777778',
    });
    expect(third?.live_cost_per_mtok_usd).toBe(formatUsd(mulDivHalfEven(5_000_000_000n, 1_000_000n, 1_800_000n)));
  });

  it('treats a counter that went down as reset, and an unprovisioned pool as costless', async () => {
    const clock = fakeClock();
    const { fetch } = scripted({
      [A]: [vllm({ prompt: 10_000, generation: 5000 }), vllm({ prompt: 300, generation: 600 })],
    });
    const future: TelemetryTarget = { pool: testPool([A], '2027-01-01'), intervalMs: 15_000, timeoutMs: 2000 };
    const telemetry = new PoolTelemetry([future], { now: clock.now, fetch });
    await telemetry.scrapeNow();
    clock.advance(3000);
    await telemetry.scrapeNow();
    expect(telemetry.snapshot('h100-east')).toMatchObject({
      prompt_tokens_per_s: 100,
      generation_tokens_per_s: 200,
      busy_share: 1,
      cost_usd_per_hour: null,
      live_cost_per_mtok_usd: null,
    });
  });

  it('never scrapes one URL twice at once, and stop() aborts what is under way', async () => {
    let calls = 0;
    const hanging: ScrapeFetch = (_url, { signal }) => {
      calls += 1;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    };
    const telemetry = new PoolTelemetry([{ ...target([A]), timeoutMs: 60_000 }], { fetch: hanging });
    const first = telemetry.scrapeNow();
    const second = telemetry.scrapeNow();
    expect(calls).toBe(1);
    await telemetry.stop();
    await Promise.all([first, second]);
    expect(calls).toBe(1);
    expect(telemetry.snapshot('h100-east')).toBeNull();
  });

  it('scrapes on its interval between start() and stop(), and not after', async () => {
    let calls = 0;
    const counting: ScrapeFetch = async () => {
      calls += 1;
      return vllm({ prompt: calls * 10, generation: calls * 5 });
    };
    const telemetry = new PoolTelemetry([{ ...target([A]), intervalMs: 5 }], { fetch: counting });
    telemetry.start();
    for (let i = 0; i < 2000 && calls < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    await telemetry.stop();
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(telemetry.snapshot('h100-east')?.urls[0]).toMatchObject({ ok: true, errors: 0 });
    const stopped = calls;
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(calls).toBe(stopped);
  });

  it('validates its targets up front and pairs config pools by name', () => {
    expect(() => new PoolTelemetry([target([A]), target([B])])).toThrow(/watched twice/);
    expect(() => new PoolTelemetry([{ ...target([A]), timeoutMs: 0 }])).toThrow(PertokenError);
    const pool = testPool([A]);
    const config = configSchema.parse({
      gpu_pools: [
        {
          name: 'h100-east',
          gpus: 2,
          rates: [{ from: '2026-01-01', usd_per_gpu_hour: '2.50' }],
          serves: ['acme-vllm'],
          capacity: { output_tokens_per_s: 500 },
          metrics: { urls: [A], interval_ms: 5000 },
        },
        { name: 'no-metrics', gpus: 1, rates: [{ from: '2026-01-01', usd_per_gpu_hour: 1 }], serves: ['x'] },
      ],
    });
    expect(telemetryTargets([pool], config.gpu_pools)).toEqual([{ pool, intervalMs: 5000, timeoutMs: 2000 }]);
    expect(new PoolTelemetry([]).snapshot('h100-east')).toBeNull();
  });
});

describe('PoolTelemetry against the demo upstream', () => {
  let up: DemoUpstream;
  beforeAll(async () => {
    up = await startDemoUpstream({ seed: 11, ttftMs: 0, itlMs: 0, maxOutputTokens: 40 });
  });
  afterAll(() => up.close());

  async function chat(model: string, content: string): Promise<{ prompt_tokens: number; completion_tokens: number }> {
    const res = await request(`${up.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
    });
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    return body.usage;
  }

  it('measures the tokens the demo served and prices them at the pool rate', async () => {
    const url = `${up.url}/metrics`;
    const clock = fakeClock();
    const telemetry = new PoolTelemetry([target([url])], { now: clock.now });
    await telemetry.scrapeNow();

    const usages = [];
    for (let i = 0; i < 5; i++) usages.push(await chat('llama-3.1-8b', `request number ${i} about pools and GPUs`));
    const prompt = usages.reduce((s, u) => s + u.prompt_tokens, 0);
    const generation = usages.reduce((s, u) => s + u.completion_tokens, 0);

    clock.advance(10_000);
    await telemetry.scrapeNow();
    const snap = telemetry.snapshot('h100-east');
    expect(snap).toMatchObject({
      urls: [{ url, ok: true, engine: 'vllm', scrapes: 2, errors: 0 }],
      running: 0,
      waiting: 0,
      kv_cache_usage: 0,
      prompt_tokens_per_s: prompt / 10,
      generation_tokens_per_s: generation / 10,
      busy_share: 1,
    });
    // $5/h over (prompt + generation) tokens per 10 s, × 360 an hour, per 1M.
    const perHour = BigInt((prompt + generation) * 360);
    expect(snap?.live_cost_per_mtok_usd).toBe(formatUsd(mulDivHalfEven(5_000_000_000n, 1_000_000n, perHour)));
  });

  it('sees a request in flight as running, with its KV in use', async () => {
    const url = `${up.url}/metrics`;
    const clock = fakeClock();
    const telemetry = new PoolTelemetry([target([url])], { now: clock.now });
    const controller = new AbortController();
    const res = await request(`${up.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-demo-fault': 'stall-after:1' },
      body: JSON.stringify({ model: 'llama-3.1-8b', stream: true, messages: [{ role: 'user', content: 'hold on' }] }),
      signal: controller.signal,
    });
    try {
      await telemetry.scrapeNow();
      clock.advance(5000);
      await telemetry.scrapeNow();
      const snap = telemetry.snapshot('h100-east');
      expect(snap?.running).toBe(1);
      expect(snap?.kv_cache_usage).toBeGreaterThan(0);
      expect(snap?.busy_share).toBe(1);
    } finally {
      controller.abort();
      await res.body.dump().catch(() => undefined);
    }
  });
});

describe('PoolTelemetry against misbehaving endpoints', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    const server = createServer(handle);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  }

  async function twoScrapes(url: string, options: { timeoutMs?: number; maxBytes?: number } = {}) {
    const telemetry = new PoolTelemetry([target([url], options.timeoutMs)], { maxBytes: options.maxBytes });
    await telemetry.scrapeNow();
    await telemetry.scrapeNow();
    await telemetry.stop();
    return telemetry.snapshot('h100-east');
  }

  it('ends a scrape of an endpoint that never answers at the timeout, and records it', async () => {
    // Accepts the request and never answers: only the deadline ends the scrape.
    const url = await serve(() => undefined);
    const snap = await twoScrapes(url, { timeoutMs: 150 });
    expect(snap?.urls).toEqual([
      { url, ok: false, engine: null, scrapes: 2, errors: 2, error: 'no complete answer within 150 ms' },
    ]);
    expect(snap).toMatchObject({ running: null, waiting: null, prompt_tokens_per_s: null, busy_share: null });
  });

  it('ends a scrape whose body stalls halfway at the timeout', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('vllm:num_requests_running{model_name="m"} 1\n');
    });
    const snap = await twoScrapes(url, { timeoutMs: 150 });
    expect(snap?.urls[0]).toMatchObject({ ok: false, errors: 2, error: 'no complete answer within 150 ms' });
  });

  it('tolerates garbage and records that no engine metrics were found', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>{{{ not metrics }}}\n\u0000\u0001 binary junk\nup 1\n</body></html>');
    });
    const snap = await twoScrapes(url);
    expect(snap?.urls[0]).toMatchObject({ ok: false, errors: 2 });
    expect(snap?.urls[0]?.error).toMatch(
      /^no vLLM, TGI or SGLang metrics in the answer \(1 metrics, \d+ unreadable lines\)$/,
    );
  });

  it('records a 500 answer as an error', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    });
    const snap = await twoScrapes(url);
    expect(snap?.urls[0]).toMatchObject({ ok: false, errors: 2, error: 'HTTP 500 from the metrics endpoint' });
  });

  it('stops reading an answer over the size bound', async () => {
    const body = vllm({ prompt: 1, generation: 1 }).padEnd(4096, '#');
    const chunked = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(body.slice(0, 2048));
      res.end(body.slice(2048));
    });
    const declared = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) });
      res.end(body);
    });
    expect((await twoScrapes(chunked, { maxBytes: 1024 }))?.urls[0]?.error).toBe(
      'metrics answer over the 1024-byte limit',
    );
    expect((await twoScrapes(declared, { maxBytes: 1024 }))?.urls[0]?.error).toBe(
      'metrics answer of 4096 bytes is over the 1024-byte limit',
    );
  });
});
