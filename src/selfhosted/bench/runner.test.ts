import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream } from '../../demo/index.js';
import type { DemoUpstream } from '../../demo/index.js';
import { rejectionOf, thrownBy } from '../../testing/errors.js';
import { resolveBench } from './options.js';
import type { BenchFlags } from './options.js';
import type { BenchRun } from './runner.js';
import { runBench } from './runner.js';
import { percentiles, quantile } from './stats.js';

/**
 * A latency the demo upstream schedules: never measurably shorter than scheduled (timers do not
 * fire early), and not wildly longer (a unit mistake, seconds for ms, is 1000x). How much longer
 * depends on how busy the machine is, so the upper bound is loose: the exact checks are the
 * definitions below, which hold whatever the machine's load.
 */
const scheduled = (actual: number | null, expected: number): void => {
  expect(actual).not.toBeNull();
  expect(actual ?? 0, `${actual} vs ${expected}`).toBeGreaterThanOrEqual(expected * 0.95);
  expect(actual ?? 0, `${actual} vs ${expected}`).toBeLessThanOrEqual(expected * 3);
};

/** TTFT, ITL, TPOT and E2E as the bench defines them, from each request's own timestamps. */
function definitions(run: BenchRun): void {
  for (const r of run.results.flat()) {
    const ttft = r.ttftMs ?? Number.NaN;
    expect(r.tpotMs).toBeCloseTo((r.e2eMs - ttft) / (r.outputTokens - 1), 9);
    // Every gap between content chunks lies between the first content and the end.
    expect(r.itlMs.reduce((sum, gap) => sum + gap, 0)).toBeLessThanOrEqual(r.e2eMs - ttft + 1e-6);
  }
}

async function bench(upstream: DemoUpstream, flags: BenchFlags): Promise<BenchRun> {
  return runBench(resolveBench({ url: `${upstream.url}/v1`, model: 'llama-3.1-8b', ...flags }, {}));
}

/** A port nothing listens on: bind an ephemeral one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('percentiles', () => {
  it('interpolates between closest ranks', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10], 0.99)).toBe(10);
    expect(quantile([], 0.5)).toBeNull();
    // p90 of 1..11: rank 0.9 × 10 = 9 -> 10
    expect(percentiles([11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({ p50: 6, p90: 10, p99: 10.9 });
  });
});

describe('bench money flags', () => {
  const plan = (flags: Partial<BenchFlags>) =>
    resolveBench({ url: 'http://gpu-box:8000/v1', model: 'm', ...flags }, {});

  it('takes --gpu-price as canonical exact text, as a saved pool needs it', () => {
    expect(plan({ gpuPrice: ' 2.990 ' }).gpuPriceUsdPerHour).toBe('2.99');
    expect(plan({ gpuPrice: '1e1' }).gpuPriceUsdPerHour).toBe('10');
    expect(plan({}).gpuPriceUsdPerHour).toBeNull();
  });

  it.each([
    ['gpuPrice', '-1', '--gpu-price'],
    ['gpuPrice', 'free', '--gpu-price'],
    ['inputCostWeight', '-0.5', '--input-cost-weight'],
    ['inputCostWeight', '1/4', '--input-cost-weight'],
  ] as const)('refuses %s %j naming %s', (flag, value, param) => {
    expect(thrownBy(() => plan({ [flag]: value })).param).toBe(param);
  });
});

describe('bench against the demo upstream (TTFT 200 ms, ITL 20 ms)', () => {
  let upstream: DemoUpstream;
  beforeAll(async () => {
    upstream = await startDemoUpstream({ ttftMs: 200, itlMs: 20, tokensPerChunk: 1, seed: 11, port: 0 });
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('recovers the scheduled TTFT, ITL and TPOT and counts tokens exactly (closed-loop sweep)', async () => {
    const run = await bench(upstream, { input: '64', output: '32', concurrency: '1,4', requests: '8' });
    expect(run.report.points.map((p) => p.concurrency)).toEqual([1, 4]);
    for (const point of run.report.points) {
      expect(point.requests).toBe(8);
      expect(point.failed).toBe(0);
      scheduled(point.ttft_ms.p50, 200);
      scheduled(point.tpot_ms.p50, 20);
      // E2E = TTFT + 31 gaps of 20 ms = 820 ms
      scheduled(point.e2e_ms.p50, 820);
      // 64 input tokens per 32 output tokens (both rates are rounded to 0.01 tokens/s)
      expect(point.input_tokens_per_s / point.output_tokens_per_s).toBeCloseTo(2, 2);
    }
    for (const r of run.results.flat()) {
      expect(r.outputTokens).toBe(32);
      expect(r.usageReported).toBe(true);
      expect(r.contentChunks).toBe(32);
      expect(r.inputTokens).toBe(64);
      expect(r.itlMs).toHaveLength(31);
      // 31 gaps of 20 ms, whatever the scheduler did to each one.
      scheduled(
        r.itlMs.reduce((sum, gap) => sum + gap, 0),
        31 * 20,
      );
    }
    definitions(run);
  });

  it('defines TPOT per token, not per chunk: 4 tokens per chunk give ITL 20 ms and TPOT 7 × 20 / 31 ms', async () => {
    const chunky = await startDemoUpstream({ ttftMs: 100, itlMs: 20, tokensPerChunk: 4, seed: 3, port: 0 });
    try {
      const run = await bench(chunky, { input: '16', output: '32', concurrency: '2', requests: '6' });
      const point = run.report.points[0];
      // 32 tokens in 8 chunks: 7 gaps of 20 ms after the first chunk; TPOT = 140 / 31 = 4.516 ms
      scheduled(point?.tpot_ms.p50 ?? null, 140 / 31);
      scheduled(point?.ttft_ms.p50 ?? null, 100);
      for (const r of run.results.flat()) {
        expect(r.contentChunks).toBe(8);
        expect(r.outputTokens).toBe(32);
        // TPOT is per token: the 7 chunk gaps are spread over 31 tokens, not 7.
        expect(r.itlMs).toHaveLength(7);
        scheduled(
          r.itlMs.reduce((sum, gap) => sum + gap, 0),
          7 * 20,
        );
      }
      definitions(run);
    } finally {
      await chunky.close();
    }
  });
});

describe('runs stop by themselves', () => {
  let upstream: DemoUpstream;
  beforeAll(async () => {
    upstream = await startDemoUpstream({ ttftMs: 10, itlMs: 2, tokensPerChunk: 1, seed: 5, port: 0 });
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('a Poisson run sends the requested number of requests and ends', async () => {
    const run = await bench(upstream, { input: '32', output: '8', rate: '40,80', requests: '12' });
    expect(run.report.points.map((p) => p.rate)).toEqual([40, 80]);
    for (const point of run.report.points) {
      expect(point.requests).toBe(12);
      expect(point.concurrency).toBeUndefined();
    }
    for (const r of run.results.flat()) expect(r.outputTokens).toBe(8);
  });

  it('a closed-loop point ends at --duration even with a huge --requests', async () => {
    const run = await bench(upstream, {
      input: '32',
      output: '8',
      concurrency: '2',
      requests: '1000000',
      duration: '400ms',
    });
    const done = run.report.points[0]?.requests ?? 0;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(1_000_000);
  });

  it('a Poisson point ends at --duration even with a huge --requests', async () => {
    const run = await bench(upstream, { input: '32', output: '8', rate: '50', requests: '1000000', duration: '300ms' });
    const done = run.report.points[0]?.requests ?? 0;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(1_000_000);
  });

  it('replays prompts from a JSONL file, with recorded output lengths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pertoken-prompts-'));
    try {
      const file = join(dir, 'prompts.jsonl');
      await writeFile(
        file,
        [
          JSON.stringify({ prompt: 'abcdefghijklmnop' }), // 16 chars: 4 demo tokens
          JSON.stringify({ messages: [{ role: 'user', content: 'abcdefgh' }], max_tokens: 5 }),
          '',
        ].join('\n'),
      );
      const run = await bench(upstream, { input: file, output: '7', concurrency: '1', requests: '4' });
      const results = run.results[0] ?? [];
      expect(results.map((r) => r.outputTokens)).toEqual([7, 5, 7, 5]);
      expect(results.map((r) => r.inputTokens)).toEqual([4, 2, 4, 2]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a bad prompts file naming --input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pertoken-prompts-'));
    try {
      const file = join(dir, 'bad.jsonl');
      await writeFile(file, '{"prompt": 3}\n');
      const err = await rejectionOf(bench(upstream, { input: file, concurrency: '1', requests: '1' }));
      expect(err.param).toBe('--input');
      expect(err.message).toContain('bad.jsonl:1');
      const missing = await rejectionOf(
        bench(upstream, { input: join(dir, 'none.jsonl'), concurrency: '1', requests: '1' }),
      );
      expect(missing.message).toMatch(/cannot read prompts file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('failures', () => {
  it('an unreachable URL is one line naming --url', async () => {
    const port = await closedPort();
    const err = await rejectionOf(
      runBench(resolveBench({ url: `http://127.0.0.1:${port}/v1`, model: 'm', requests: '1' }, {})),
    );
    expect(err.code).toBe('upstream_unreachable');
    expect(err.param).toBe('--url');
    expect(err.toLine()).toMatch(
      new RegExp(`^error: --url: cannot reach http://127\\.0\\.0\\.1:${port}/v1: .*ECONNREFUSED`),
    );
    expect(err.toLine()).not.toContain('\n');
  });

  it('a rejected key names --api-key', async () => {
    const up = await startDemoUpstream({ ttftMs: 1, itlMs: 1, port: 0, script: 'status:401' });
    try {
      const err = await rejectionOf(bench(up, { requests: '1' }));
      expect(err.param).toBe('--api-key');
      expect(err.message).toMatch(/answered HTTP 401/);
    } finally {
      await up.close();
    }
  });

  it('an unknown model names --model; other statuses name --url', async () => {
    const server = createServer((req, res) => {
      const status = req.headers.authorization === 'Bearer boom' ? 500 : 404;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: status === 404 ? 'The model `x` does not exist.' : 'engine crashed' } }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      const notFound = await rejectionOf(runBench(resolveBench({ url, model: 'x', requests: '1' }, {})));
      expect(notFound.param).toBe('--model');
      expect(notFound.message).toContain('The model `x` does not exist.');
      const crashed = await rejectionOf(runBench(resolveBench({ url, model: 'x', requests: '1', apiKey: 'boom' }, {})));
      expect(crashed.param).toBe('--url');
      expect(crashed.message).toContain('HTTP 500: engine crashed');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a point where every request fails ends the run naming --url', async () => {
    const up = await startDemoUpstream({
      ttftMs: 1,
      itlMs: 1,
      port: 0,
      script: (ctx) => (ctx.index === 0 ? null : 'status:503'),
    });
    try {
      const err = await rejectionOf(bench(up, { concurrency: '2', requests: '3', output: '4' }));
      expect(err.code).toBe('upstream_error');
      expect(err.param).toBe('--url');
      expect(err.message).toMatch(/every request at concurrency 2 failed: HTTP 503/);
    } finally {
      await up.close();
    }
  });

  it('counts cut streams as failed and falls back to chunk counts without usage', async () => {
    const up = await startDemoUpstream({
      ttftMs: 1,
      itlMs: 1,
      port: 0,
      script: (ctx) => (ctx.index === 2 ? 'cut-after:3' : ctx.index === 3 ? 'no-usage' : null),
    });
    try {
      const run = await bench(up, { input: '8', output: '6', concurrency: '1', requests: '4' });
      const point = run.report.points[0];
      expect(point?.failed).toBe(1);
      expect(point?.requests).toBe(3);
      const results = run.results[0] ?? [];
      expect(results[1]?.ok).toBe(false);
      expect(results[1]?.unreachable).toBe(false);
      expect(results[2]?.usageReported).toBe(false);
      expect(results[2]?.outputTokens).toBe(6);
    } finally {
      await up.close();
    }
  });
});
