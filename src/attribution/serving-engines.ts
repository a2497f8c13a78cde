/**
 * What pool telemetry reads from a serving engine's /metrics: one table row per engine, with the
 * engine's own metric names, so that adding an engine is adding a row. Names as the engines emit
 * them (checked against their sources):
 *
 * - vLLM (vllm/v1/metrics/loggers.py, PrometheusStatLogger; labels `model_name`, `engine`):
 *   gauges `vllm:num_requests_running`, `vllm:num_requests_waiting`, `vllm:kv_cache_usage_perc`
 *   (0..1; before 0.9 and deprecated since: `vllm:gpu_cache_usage_perc`), counters
 *   `vllm:prompt_tokens_total`, `vllm:generation_tokens_total` (Python's client adds `_total`).
 * - SGLang (python/sglang/srt/metrics/collector.py; label `model_name`): gauges
 *   `sglang:num_running_reqs`, `sglang:num_queue_reqs`, `sglang:token_usage` (KV pool use, 0..1),
 *   `sglang:gen_throughput` (tokens/s), counters `sglang:prompt_tokens_total`,
 *   `sglang:generation_tokens_total`.
 * - TGI (router, metrics crate): gauges `tgi_batch_current_size` (requests in the running batch),
 *   `tgi_queue_size`; histograms `tgi_request_input_length` and `tgi_request_generated_tokens`
 *   observed once per request, whose `_sum` series are token counters. TGI exports no KV use.
 *
 * Series of one name are added up (data-parallel engines, several models); the KV share is their
 * mean. NaN and infinite samples count as absent. A metric an engine declares (`# TYPE`) but has
 * no series of yet reads 0, and so does a running or waiting gauge it does not show at all.
 */
import type { Exposition } from './prometheus-text.js';

export type EngineKind = 'vllm' | 'sglang' | 'tgi';

export interface EngineReading {
  readonly engine: EngineKind;
  readonly running: number;
  /** Queue depth: requests admitted but not yet scheduled. */
  readonly waiting: number;
  /** KV-cache blocks in use, 0..1; null when the engine does not say. */
  readonly kvCacheUsage: number | null;
  /** Cumulative counters since the engine started; null when the engine does not export them. */
  readonly promptTokens: number | null;
  readonly generationTokens: number | null;
  /** The engine's own generation throughput gauge (tokens/s), used when it has no counters. */
  readonly generationTokensPerS: number | null;
}

interface EngineNames {
  readonly engine: EngineKind;
  readonly running: string;
  readonly waiting: string;
  /** The first present wins (newer name first). */
  readonly kvCache: readonly string[];
  readonly promptTokens: string;
  readonly generationTokens: string;
  readonly generationRate: string | null;
}

const ENGINES: readonly EngineNames[] = [
  {
    engine: 'vllm',
    running: 'vllm:num_requests_running',
    waiting: 'vllm:num_requests_waiting',
    kvCache: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
    promptTokens: 'vllm:prompt_tokens_total',
    generationTokens: 'vllm:generation_tokens_total',
    generationRate: null,
  },
  {
    engine: 'sglang',
    running: 'sglang:num_running_reqs',
    waiting: 'sglang:num_queue_reqs',
    kvCache: ['sglang:token_usage'],
    promptTokens: 'sglang:prompt_tokens_total',
    generationTokens: 'sglang:generation_tokens_total',
    generationRate: 'sglang:gen_throughput',
  },
  {
    engine: 'tgi',
    running: 'tgi_batch_current_size',
    waiting: 'tgi_queue_size',
    kvCache: [],
    promptTokens: 'tgi_request_input_length_sum',
    generationTokens: 'tgi_request_generated_tokens_sum',
    generationRate: null,
  },
];

/** The first engine any of whose metrics the exposition carries, read; null when none is there. */
export function readEngine(exposition: Exposition): EngineReading | null {
  const names = ENGINES.find((e) =>
    [e.running, e.waiting, e.promptTokens, e.generationTokens].some((name) => declared(exposition, name)),
  );
  if (names === undefined) return null;
  const sum = (name: string | null): number | null => {
    const found = finite(exposition, name);
    if (found.length > 0) return found.reduce((a, b) => a + b, 0);
    return name !== null && declared(exposition, name) && !exposition.samples.has(name) ? 0 : null;
  };
  const kv = names.kvCache.map((name) => finite(exposition, name)).find((found) => found.length > 0);
  const kvDeclared = names.kvCache.some((name) => declared(exposition, name));
  return {
    engine: names.engine,
    running: sum(names.running) ?? 0,
    waiting: sum(names.waiting) ?? 0,
    kvCacheUsage: kv !== undefined ? kv.reduce((a, b) => a + b, 0) / kv.length : kvDeclared ? 0 : null,
    promptTokens: sum(names.promptTokens),
    generationTokens: sum(names.generationTokens),
    generationTokensPerS: sum(names.generationRate),
  };
}

/**
 * Whether the engine exports a metric: it has samples, or only its `# TYPE` line (a labelled
 * family with no series yet, as a fresh engine shows before its first request: it reads 0).
 */
function declared(exposition: Exposition, name: string): boolean {
  return (
    exposition.samples.has(name) ||
    exposition.types.has(name) ||
    exposition.types.has(name.replace(/_(sum|count)$/, ''))
  );
}

function finite(exposition: Exposition, name: string | null): number[] {
  if (name === null) return [];
  return (exposition.samples.get(name) ?? []).map((s) => s.value).filter(Number.isFinite);
}
