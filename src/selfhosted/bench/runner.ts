/**
 * Load generation against an OpenAI-compatible endpoint: closed-loop concurrency sweeps (N workers,
 * each sends its next request when the previous one ends) and open-loop Poisson arrivals (requests
 * start at exponential intervals whatever the server's state). Every point stops by itself after
 * `requests` requests or `durationMs`, whichever comes first; requests already running finish.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { PertokenError } from '../../errors.js';
import { parseDecimal } from '../../money.js';
import { seededRandom } from '../../random.js';
import type { LengthSpec } from '../lengths.js';
import { exactUsdPerMillion } from '../pools.js';
import type { ChatTarget, RequestResult } from './client.js';
import { streamChat } from './client.js';
import type { Percentiles } from './stats.js';
import { percentiles } from './stats.js';
import type { OutputSpec, WorkItem } from './workload.js';
import { workSource } from './workload.js';

export type LoadMode = 'concurrency' | 'rate';

export interface BenchPlan {
  baseUrl: string;
  model: string;
  apiKey: string | null;
  ignoreEos: boolean;
  input: LengthSpec;
  output: OutputSpec;
  mode: LoadMode;
  /** Concurrencies (closed loop) or request rates per second (Poisson). */
  levels: number[];
  /** Requests per point. */
  requests: number;
  /** Time limit per point, ms; null for none. */
  durationMs: number | null;
  seed: number;
  gpuPriceUsdPerHour: string | null;
  gpus: number;
  slo: { ttftMs?: number; tpotMs?: number };
  requestTimeoutMs: number;
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  label: string;
  done: number;
  total: number;
  elapsedMs: number;
  durationMs: number | null;
}

export interface BenchPoint {
  concurrency?: number;
  rate?: number;
  requests: number;
  ttft_ms: Percentiles;
  itl_ms: Percentiles;
  tpot_ms: Percentiles;
  e2e_ms: Percentiles;
  output_tokens_per_s: number;
  goodput_rps: number;
  usd_per_mtok_output: string | null;
  requests_per_s: number;
  input_tokens_per_s: number;
  failed: number;
}

export interface BenchReport {
  points: BenchPoint[];
}

export interface BenchRun {
  report: BenchReport;
  /** Raw per-request results of each point, in the order of `report.points`. */
  results: RequestResult[][];
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

function meetsSlo(r: RequestResult, slo: BenchPlan['slo']): boolean {
  if (slo.ttftMs !== undefined && (r.ttftMs === null || r.ttftMs > slo.ttftMs)) return false;
  if (slo.tpotMs !== undefined && r.tpotMs !== null && r.tpotMs > slo.tpotMs) return false;
  return true;
}

export function summarize(
  plan: Pick<BenchPlan, 'mode' | 'slo' | 'gpuPriceUsdPerHour' | 'gpus'>,
  level: number,
  startMs: number,
  results: RequestResult[],
): BenchPoint {
  const ok = results.filter((r) => r.ok);
  const endMs = results.reduce((max, r) => Math.max(max, r.endMs), startMs);
  const seconds = Math.max((endMs - startMs) / 1000, 1e-9);
  const outputTokens = ok.reduce((sum, r) => sum + r.outputTokens, 0);
  const inputTokens = ok.reduce((sum, r) => sum + (r.inputTokens ?? 0), 0);
  const tps = outputTokens / seconds;
  const price = plan.gpuPriceUsdPerHour;
  const point: BenchPoint = {
    ...(plan.mode === 'concurrency' ? { concurrency: level } : { rate: level }),
    requests: ok.length,
    ttft_ms: percentiles(ok.flatMap((r) => (r.ttftMs === null ? [] : [r.ttftMs]))),
    itl_ms: percentiles(ok.flatMap((r) => r.itlMs)),
    tpot_ms: percentiles(ok.flatMap((r) => (r.tpotMs === null ? [] : [r.tpotMs]))),
    e2e_ms: percentiles(ok.map((r) => r.e2eMs)),
    output_tokens_per_s: round(tps, 2),
    goodput_rps: round(ok.filter((r) => meetsSlo(r, plan.slo)).length / seconds, 4),
    usd_per_mtok_output:
      price === null
        ? null
        : exactUsdPerMillion(
            parseDecimal(price, '--gpu-price', { nonNegative: true }),
            BigInt(plan.gpus),
            parseDecimal(round(tps, 3), 'output_tokens_per_s', { nonNegative: true }),
          ),
    requests_per_s: round(ok.length / seconds, 4),
    input_tokens_per_s: round(inputTokens / seconds, 2),
    failed: results.length - ok.length,
  };
  return point;
}

/** One request before the sweep (max_tokens 1): fails fast, naming the flag, when the endpoint is wrong. */
async function preflight(target: ChatTarget, timeoutMs: number): Promise<void> {
  const r = await streamChat(
    target,
    { messages: [{ role: 'user', content: 'ping' }], maxTokens: 1 },
    AbortSignal.timeout(timeoutMs),
  );
  if (r.ok) return;
  if (r.status === null) {
    throw new PertokenError('upstream_unreachable', `cannot reach ${target.baseUrl}: ${r.error ?? 'no response'}`, {
      param: '--url',
    });
  }
  const param =
    r.status === 401 || r.status === 403
      ? '--api-key'
      : r.status === 404 && /model/i.test(r.error ?? '')
        ? '--model'
        : '--url';
  throw new PertokenError('upstream_error', `${target.baseUrl} answered ${r.error ?? `HTTP ${r.status}`}`, { param });
}

async function closedLoop(
  plan: BenchPlan,
  target: ChatTarget,
  next: () => WorkItem,
  concurrency: number,
  report: (r: RequestResult) => void,
): Promise<void> {
  const deadline = plan.durationMs === null ? Number.POSITIVE_INFINITY : performance.now() + plan.durationMs;
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < plan.requests && performance.now() < deadline) {
      issued++;
      report(await streamChat(target, next(), AbortSignal.timeout(plan.requestTimeoutMs)));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function poisson(
  plan: BenchPlan,
  target: ChatTarget,
  next: () => WorkItem,
  rate: number,
  report: (r: RequestResult) => void,
): Promise<void> {
  const random = seededRandom(plan.seed + Math.round(rate * 1000));
  const start = performance.now();
  const running: Array<Promise<void>> = [];
  let due = start;
  for (let i = 0; i < plan.requests; i++) {
    // Exponential gaps of mean 1/rate: a Poisson process. 1 − u keeps the logarithm finite.
    if (i > 0) due += (-Math.log(1 - random()) / rate) * 1000;
    if (plan.durationMs !== null && due - start >= plan.durationMs) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    running.push(streamChat(target, next(), AbortSignal.timeout(plan.requestTimeoutMs)).then(report));
  }
  await Promise.all(running);
}

export async function runBench(plan: BenchPlan): Promise<BenchRun> {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
  const target: ChatTarget = {
    baseUrl: plan.baseUrl,
    model: plan.model,
    apiKey: plan.apiKey,
    ignoreEos: plan.ignoreEos,
    dispatcher,
  };
  try {
    await preflight(target, plan.requestTimeoutMs);
    const next = await workSource(plan.input, plan.output, plan.seed);
    const points: BenchPoint[] = [];
    const all: RequestResult[][] = [];
    for (const level of plan.levels) {
      const label = plan.mode === 'concurrency' ? `concurrency ${level}` : `rate ${level}/s`;
      const results: RequestResult[] = [];
      const start = performance.now();
      const report = (r: RequestResult): void => {
        results.push(r);
        plan.onProgress?.({
          label,
          done: results.length,
          total: plan.requests,
          elapsedMs: performance.now() - start,
          durationMs: plan.durationMs,
        });
      };
      if (plan.mode === 'concurrency') await closedLoop(plan, target, next, level, report);
      else await poisson(plan, target, next, level, report);
      if (results.length > 0 && results.every((r) => !r.ok)) {
        const first = results[0];
        const unreachable = results.every((r) => r.unreachable);
        throw new PertokenError(
          unreachable ? 'upstream_unreachable' : 'upstream_error',
          `every request at ${label} failed: ${first?.error ?? 'unknown error'}`,
          { param: '--url' },
        );
      }
      points.push(summarize(plan, level, start, results));
      all.push(results);
    }
    return { report: { points }, results: all };
  } finally {
    await dispatcher.close();
  }
}
