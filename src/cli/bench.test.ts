import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream } from '../demo/index.js';
import type { DemoUpstream } from '../demo/index.js';
import { PertokenError } from '../errors.js';
import { rejectionOf } from '../testing/errors.js';
import { memoryIo } from '../testing/io.js';
import { benchCommand } from './bench.js';

interface Captured {
  stdout: string;
  stderr: string;
}

async function runCli(args: string[]): Promise<Captured> {
  const io = memoryIo();
  await benchCommand(io, {}).exitOverride().parseAsync(args, { from: 'user' });
  return { stdout: io.out(), stderr: io.err() };
}

function cliError(args: string[]): Promise<PertokenError> {
  return rejectionOf(runCli(args));
}

const POINT_KEYS = [
  'concurrency',
  'requests',
  'ttft_ms',
  'itl_ms',
  'tpot_ms',
  'e2e_ms',
  'output_tokens_per_s',
  'goodput_rps',
  'usd_per_mtok_output',
  'requests_per_s',
  'input_tokens_per_s',
  'failed',
];

describe('pertoken bench', () => {
  let upstream: DemoUpstream;
  let dir: string;
  let url: string;
  beforeAll(async () => {
    upstream = await startDemoUpstream({ ttftMs: 20, itlMs: 4, tokensPerChunk: 1, seed: 9, port: 0 });
    url = `${upstream.url}/v1`;
    dir = await mkdtemp(join(tmpdir(), 'pertoken-bench-cli-'));
  });
  afterAll(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints DESIGN §3 JSON with $/1M output tokens and goodput under the SLO', async () => {
    const { stdout, stderr } = await runCli([
      '--url',
      url,
      '--model',
      'llama-3.1-8b',
      '--input',
      '64',
      '--output',
      '16',
      '--concurrency',
      '1,4',
      '--requests',
      '8',
      '--gpu-price',
      '2.99',
      '--gpus',
      '1',
      '--slo-ttft-ms',
      '1',
      '--format',
      'json',
    ]);
    const json = JSON.parse(stdout) as { points: Array<Record<string, unknown>> };
    expect(Object.keys(json)).toEqual(['points']);
    expect(json.points).toHaveLength(2);
    for (const p of json.points) {
      expect(Object.keys(p)).toEqual(POINT_KEYS);
      expect(Object.keys(p.ttft_ms as object)).toEqual(['p50', 'p90', 'p99']);
      expect(p.usd_per_mtok_output).toMatch(/^\d+\.\d{9}$/);
      // a 1 ms TTFT objective is missed by every request of a 20 ms TTFT server
      expect(p.goodput_rps).toBe(0);
    }
    // not a terminal: no progress bar
    expect(stderr).not.toContain('\r');
  });

  it('prints CSV with percentile columns', async () => {
    const { stdout } = await runCli([
      '--url',
      url,
      '--model',
      'm',
      '--input',
      '16',
      '--output',
      '4',
      '--rate',
      '50',
      '--requests',
      '5',
      '--format',
      'csv',
    ]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'rate,requests,ttft_p50_ms,ttft_p90_ms,ttft_p99_ms,itl_p50_ms,itl_p90_ms,itl_p99_ms,tpot_p50_ms,tpot_p90_ms,tpot_p99_ms,' +
        'e2e_p50_ms,e2e_p90_ms,e2e_p99_ms,output_tokens_per_s,goodput_rps,usd_per_mtok_output,requests_per_s,input_tokens_per_s,failed',
    );
    expect(lines[1]?.startsWith('50,5,')).toBe(true);
  });

  it('writes a Pareto SVG with the estimator curve, and saves a GPU pool', async () => {
    const plot = join(dir, 'pareto.svg');
    const dataDir = join(dir, 'data');
    const { stderr } = await runCli([
      '--url',
      url,
      '--model',
      'meta-llama/Llama-3.1-8B-Instruct',
      '--input',
      '32',
      '--output',
      '8',
      '--concurrency',
      '1,2',
      '--requests',
      '4',
      '--gpu-price',
      '2.99',
      '--gpu',
      'h100-sxm',
      '--precision',
      'fp8',
      '--plot',
      plot,
      '--save-pool',
      'h100-demo',
      '--data-dir',
      dataDir,
    ]);
    const svg = await readFile(plot, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('data-series="measured"');
    expect(svg).toContain('data-series="estimate (1 x h100-sxm)"');
    expect(svg).toContain('output tokens/s per GPU');
    const pools = JSON.parse(await readFile(join(dataDir, 'gpu-pools.json'), 'utf8')) as {
      pools: Array<Record<string, unknown>>;
    };
    expect(pools.pools).toHaveLength(1);
    expect(pools.pools[0]).toMatchObject({
      name: 'h100-demo',
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      gpu: 'h100-sxm',
      gpus: 1,
      gpu_price_usd_per_hour: '2.99',
      input_cost_weight: '0.25',
    });
    expect(pools.pools[0]?.output_tokens_per_s).toMatch(/^\d+\.\d{3}$/);
    expect(stderr).toMatch(/saved GPU pool h100-demo .* per 1M output tokens/);
  });

  it('plots measured points only when the model is not in the catalog', async () => {
    const plot = join(dir, 'only.svg');
    const { stderr } = await runCli([
      '--url',
      url,
      '--model',
      'my-finetune',
      '--input',
      '16',
      '--output',
      '4',
      '--concurrency',
      '1',
      '--requests',
      '2',
      '--gpu',
      'l4',
      '--plot',
      plot,
    ]);
    const svg = await readFile(plot, 'utf8');
    expect(svg).toContain('data-series="measured"');
    expect(svg).not.toContain('data-series="estimate');
    expect(stderr).toContain('no estimator curve on the plot: model "my-finetune" is not in the catalog');
  });

  const bad: Array<[string, string[], string]> = [
    ['no url', ['--model', 'm'], '--url'],
    ['bad url', ['--url', 'ftp://x', '--model', 'm'], '--url'],
    ['no model', ['--url', 'http://127.0.0.1:1/v1'], '--model'],
    ['both loads', ['--url', 'http://127.0.0.1:1/v1', '--model', 'm', '--concurrency', '1', '--rate', '2'], '--rate'],
    ['negative input', ['--url', 'http://127.0.0.1:1/v1', '--model', 'm', '--input', '-1'], '--input'],
    ['zero requests', ['--url', 'http://127.0.0.1:1/v1', '--model', 'm', '--requests', '0'], '--requests'],
    ['bad duration', ['--url', 'http://127.0.0.1:1/v1', '--model', 'm', '--duration', 'soon'], '--duration'],
    ['unknown gpu', ['--url', 'http://127.0.0.1:1/v1', '--model', 'm', '--gpu', 'tpu'], '--gpu'],
    ['pool without price', ['--url', 'http://127.0.0.1:1/v1', '--model', 'm', '--save-pool', 'p'], '--gpu-price'],
    ['zero gpus', ['--url', 'http://127.0.0.1:1/v1', '--model', 'm', '--gpus', '0'], '--gpus'],
  ];
  it.each(bad)('%s: one line naming %s', async (_name, args, param) => {
    const err = await cliError(args);
    expect(err.param).toBe(param);
    expect(err.toLine().startsWith(`error: ${param}: `)).toBe(true);
  });
});
