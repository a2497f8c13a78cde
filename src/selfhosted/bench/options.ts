/**
 * `pertoken bench` flags -> a validated plan, plus what happens around a run: the estimator curve
 * for the plot and the GPU pool for --save-pool.
 */
import { invalidInput } from '../../errors.js';
import { formatDecimal, parseDecimal } from '../../money.js';
import { matchModel, requireGpu } from '../catalog/index.js';
import { estimate } from '../estimate.js';
import { parseLengthSpec } from '../lengths.js';
import { parseConcurrency, parsePrecision, resolveEstimate } from '../options.js';
import type { GpuPool } from '../pools.js';
import { DEFAULT_INPUT_COST_WEIGHT } from '../pools.js';
import type { CurvePoint } from './plot.js';
import type { BenchPlan, BenchRun, LoadMode } from './runner.js';
import type { OutputSpec } from './workload.js';

export interface BenchFlags {
  url?: string;
  model?: string;
  apiKey?: string;
  input?: string;
  output?: string;
  concurrency?: string;
  rate?: string;
  requests?: string;
  duration?: string;
  timeout?: string;
  seed?: string;
  gpuPrice?: string;
  gpus?: string;
  gpu?: string;
  precision?: string;
  sloTtftMs?: string;
  sloTpotMs?: string;
  ignoreEos?: boolean;
  inputCostWeight?: string;
}

/** "60s", "2m", "1500ms", "1h" or plain seconds -> milliseconds. */
export function parseDuration(text: string, param: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw invalidInput(param, `expected a duration like 60s, 2m or 500ms, got "${text}"`);
  const unit = m[2] ?? 's';
  const ms = Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
  if (!(ms > 0)) throw invalidInput(param, `duration must be positive, got "${text}"`);
  return ms;
}

function positiveInt(text: string, param: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1)
    throw invalidInput(param, `expected a positive whole number, got "${text}"`);
  return Number(text);
}

function positive(text: string, param: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v <= 0)
    throw invalidInput(param, `expected a positive number, got "${text}"`);
  return v;
}

function parseUrl(text: string | undefined): string {
  if (text === undefined || text.trim() === '')
    throw invalidInput('--url', 'the OpenAI-compatible base URL is required, e.g. http://localhost:8000/v1');
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw invalidInput('--url', `not a URL: "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidInput('--url', `expected an http(s) URL, got "${text}"`);
  return url.toString().replace(/\/+$/, '');
}

export function resolveBench(f: BenchFlags, env: NodeJS.ProcessEnv = process.env): BenchPlan {
  const baseUrl = parseUrl(f.url);
  if (f.model === undefined || f.model.trim() === '')
    throw invalidInput('--model', 'the model name to send is required');
  if (f.concurrency !== undefined && f.rate !== undefined)
    throw invalidInput('--rate', 'give either --concurrency (closed loop) or --rate (Poisson), not both');
  const mode: LoadMode = f.rate !== undefined ? 'rate' : 'concurrency';
  let levels: number[];
  if (mode === 'rate') {
    const parts = (f.rate ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (parts.length === 0) throw invalidInput('--rate', 'expected a list of request rates per second, e.g. 2,4,8');
    levels = parts.map((p) => positive(p, '--rate'));
  } else {
    const c = parseConcurrency(f.concurrency ?? '1,4,16');
    if (c === 'max') throw invalidInput('--concurrency', 'bench needs explicit concurrencies, e.g. 1,4,16');
    levels = c;
  }
  const input = parseLengthSpec(f.input ?? '512', '--input', true);
  const output = parseLengthSpec(f.output ?? '256', '--output') as OutputSpec;
  let price: string | null = null;
  if (f.gpuPrice !== undefined) {
    // Canonical text ("1e1" -> "10"), as it lands in a saved pool (a plain-decimal schema).
    price = formatDecimal(parseDecimal(f.gpuPrice.trim(), '--gpu-price', { nonNegative: true }));
  }
  const slo: BenchPlan['slo'] = {};
  if (f.sloTtftMs !== undefined) slo.ttftMs = positive(f.sloTtftMs, '--slo-ttft-ms');
  if (f.sloTpotMs !== undefined) slo.tpotMs = positive(f.sloTpotMs, '--slo-tpot-ms');
  if (f.gpu !== undefined) requireGpu(f.gpu);
  if (f.precision !== undefined) parsePrecision(f.precision, '--precision');
  if (f.inputCostWeight !== undefined) inputCostWeight(f);
  return {
    baseUrl,
    model: f.model.trim(),
    apiKey: f.apiKey ?? env.OPENAI_API_KEY ?? null,
    ignoreEos: f.ignoreEos !== false,
    input,
    output,
    mode,
    levels,
    requests: positiveInt(f.requests ?? '100', '--requests'),
    durationMs: f.duration === undefined ? null : parseDuration(f.duration, '--duration'),
    seed: f.seed === undefined ? 1 : positiveInt(f.seed, '--seed'),
    gpuPriceUsdPerHour: price,
    gpus: positiveInt(f.gpus ?? '1', '--gpus'),
    slo,
    requestTimeoutMs: f.timeout === undefined ? 600_000 : parseDuration(f.timeout, '--timeout'),
  };
}

/** Mean measured input and output tokens of successful requests (falls back to the plan's means). */
function measuredLengths(run: BenchRun): { input: number; output: number } | null {
  const ok = run.results.flat().filter((r) => r.ok);
  if (ok.length === 0) return null;
  const withInput = ok.filter((r) => r.inputTokens !== null);
  const input = withInput.length === 0 ? 0 : withInput.reduce((s, r) => s + (r.inputTokens ?? 0), 0) / withInput.length;
  const output = ok.reduce((s, r) => s + r.outputTokens, 0) / ok.length;
  return { input: Math.max(1, Math.round(input)), output: Math.max(2, Math.round(output)) };
}

/**
 * The estimator's throughput/interactivity curve for the measured workload on `--gpus` x `--gpu`
 * (tensor parallel across them), or a reason why there is none.
 */
export function estimateCurve(f: BenchFlags, run: BenchRun): { points: CurvePoint[] } | { reason: string } {
  if (f.gpu === undefined) return { reason: 'no --gpu given' };
  const model = matchModel(f.model ?? '');
  if (model === undefined) return { reason: `model "${f.model ?? ''}" is not in the catalog` };
  const lengths = measuredLengths(run);
  if (lengths === null) return { reason: 'no successful request' };
  const { input, concurrency } = resolveEstimate({
    model: model.id,
    gpu: f.gpu,
    gpus: f.gpus ?? '1',
    precision: f.precision ?? 'bf16',
    input: String(lengths.input),
    output: String(lengths.output),
    concurrency: 'max',
  });
  const report = estimate(input, concurrency);
  return {
    points: report.points.map((p) => ({
      perUser: 1000 / p.tpot_ms,
      perGpu: p.output_tokens_per_s_per_gpu,
      label: `concurrency ${p.concurrency}`,
    })),
  };
}

/** `--input-cost-weight` as canonical decimal text (the pool file takes plain decimals only). */
function inputCostWeight(f: BenchFlags): string {
  const text = (f.inputCostWeight ?? DEFAULT_INPUT_COST_WEIGHT).trim();
  return formatDecimal(parseDecimal(text, '--input-cost-weight', { nonNegative: true }));
}

/** The GPU pool a run measured: its best point (highest output tokens/s). */
export function poolFromRun(
  name: string,
  f: BenchFlags,
  plan: BenchPlan,
  run: BenchRun,
  now: Date = new Date(),
): GpuPool {
  if (plan.gpuPriceUsdPerHour === null)
    throw invalidInput('--gpu-price', '--save-pool needs the GPU price (USD per GPU-hour)');
  if (name.trim() === '') throw invalidInput('--save-pool', 'the pool needs a name');
  const best = run.report.points.reduce((a, b) => (b.output_tokens_per_s > a.output_tokens_per_s ? b : a));
  if (best.output_tokens_per_s <= 0) throw invalidInput('--save-pool', 'the run measured no output tokens');
  return {
    name: name.trim(),
    model: plan.model,
    gpu: f.gpu === undefined ? null : requireGpu(f.gpu).id,
    gpus: plan.gpus,
    gpu_price_usd_per_hour: plan.gpuPriceUsdPerHour,
    output_tokens_per_s: best.output_tokens_per_s.toFixed(3),
    input_tokens_per_s: best.input_tokens_per_s.toFixed(3),
    input_cost_weight: inputCostWeight(f),
    measured_at_load: best.concurrency !== undefined ? `concurrency ${best.concurrency}` : `rate ${best.rate ?? 0}/s`,
    measured_at: now.toISOString(),
    source: `pertoken bench ${plan.baseUrl}`,
  };
}
