import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { memoryIo } from '../testing/io.js';
import { estimateCommand } from './estimate.js';

async function runCli(args: string[]): Promise<string> {
  const io = memoryIo();
  await estimateCommand(io, {}).exitOverride().parseAsync(args, { from: 'user' });
  return io.out();
}

describe('pertoken estimate', () => {
  it('prints the DESIGN §3 JSON for the documented example', async () => {
    const text = await runCli([
      '--model',
      'llama-3.1-8b',
      '--gpu',
      'h100-sxm',
      '--gpus',
      '1',
      '--precision',
      'fp8',
      '--input',
      '1000',
      '--output',
      '1000',
      '--concurrency',
      '1,8,64,256',
      '--gpu-price',
      '2.99',
      '--format',
      'json',
    ]);
    const json = JSON.parse(text) as {
      model: string;
      gpu: string;
      gpus: number;
      precision: string;
      points: unknown[];
      max_throughput: { concurrency: number };
    };
    expect(json.model).toBe('llama-3.1-8b');
    expect(json.gpu).toBe('h100-sxm');
    expect(json.gpus).toBe(1);
    expect(json.precision).toBe('fp8');
    expect(json.points).toHaveLength(4);
    expect(json.max_throughput.concurrency).toBe(256);
  });

  it('sweeps with --concurrency max and prints CSV', async () => {
    const text = await runCli([
      '--model',
      'qwen2.5-7b',
      '--gpu',
      'l40s',
      '--precision',
      'fp8',
      '--concurrency',
      'max',
      '--format',
      'csv',
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]?.startsWith('concurrency,ttft_ms,tpot_ms')).toBe(true);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((l) => l.endsWith(',true')).length).toBe(1);
  });

  it('prints the calibration report with --calibration', async () => {
    const text = await runCli(['--calibration']);
    expect(text).toContain('trtllm-1.0/h100-sxm/llama-3.1-8b/tp1/fp8/128-128');
    expect(text).toMatch(/\d+ of \d+ published points within ±25% \((8\d|9\d|100)\.\d%\), median \|error\| [\d.]+%/);
    const json = JSON.parse(await runCli(['--calibration', '--format', 'json'])) as {
      points: number;
      share_within: number;
    };
    expect(json.points).toBeGreaterThanOrEqual(200);
    expect(json.share_within).toBeGreaterThanOrEqual(0.8);
  });

  it('throws one PertokenError line naming the flag', async () => {
    const err = await estimateCommand(memoryIo(), {})
      .exitOverride()
      .parseAsync(['--model', 'llama-3.1-8b', '--gpu', 'x100'], { from: 'user' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(PertokenError);
    expect((err as PertokenError).toLine()).toMatch(/^error: --gpu: unknown GPU "x100"; known: h100-sxm, /);
  });
});
