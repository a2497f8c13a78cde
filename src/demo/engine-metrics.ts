/**
 * The demo upstream as a serving engine: `GET /metrics` in Prometheus text with vLLM's own metric
 * names and labels (the V1 engine's `PrometheusStatLogger`: `model_name` and `engine`), computed
 * from what the handler is really doing, so that pool telemetry can be exercised offline.
 *
 * The demo behaves as one engine per model name:
 * - a request is `waiting` from the moment its model is known until its schedule starts (only a
 *   `slow-headers` fault makes that visible: the demo never queues otherwise), then `running`
 *   until its reply ends;
 * - prompt tokens count when it starts running (prefill comes first);
 * - generation tokens count when its reply ends: all of them for a reply that went out whole, the
 *   share of content chunks that went out for a stream cut short, none for a body whose client
 *   left first; such a request finishes as `abort`;
 * - the KV cache is a notional {@link KV_CACHE_TOKENS} tokens per model, and a running request
 *   holds its prompt and its whole output in it.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { EngineWork } from './generation.js';

/** The KV capacity each model pretends to have: about what an 8B model leaves free on one 80 GB GPU. */
export const KV_CACHE_TOKENS = 262_144;
/** Model names are client input: past this many, the rest share one `other` series. */
const MAX_MODELS = 64;
const OVERFLOW_MODEL = 'other';
/** vLLM's data-parallel engine index; the demo is engine 0. */
const ENGINE = '0';
const FINISHED_REASONS = ['stop', 'length', 'abort'] as const;

export type FinishedReason = (typeof FINISHED_REASONS)[number];

type Labels = 'model_name' | 'engine';

interface ModelState {
  waiting: number;
  running: number;
  kvTokens: number;
}

/** One request's passage through the engine. Every method is safe to call in any state. */
export interface EngineRequest {
  /** waiting -> running; counts the prompt. */
  run(work: EngineWork): void;
  /** running -> done; counts what was generated and the finished reason. */
  finish(generationTokens: number, reason: FinishedReason): void;
  /** Leaves the engine without counting anything more (the request failed or was never run). */
  release(): void;
}

export class EngineMetrics {
  readonly #registry = new Registry();
  readonly #models = new Map<string, ModelState>();
  readonly #promptTokens: Counter<Labels>;
  readonly #generationTokens: Counter<Labels>;
  readonly #success: Counter<Labels | 'finished_reason'>;

  constructor() {
    const registers = [this.#registry];
    const gauge = (name: string, help: string, read: (state: ModelState) => number): void => {
      const models = this.#models;
      new Gauge({
        name,
        help,
        labelNames: ['model_name', 'engine'],
        registers,
        collect() {
          for (const [model, state] of models) this.set({ model_name: model, engine: ENGINE }, read(state));
        },
      });
    };
    gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', (s) => s.running);
    gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', (s) => s.waiting);
    gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', (s) =>
      Math.min(1, s.kvTokens / KV_CACHE_TOKENS),
    );
    const labelNames: Labels[] = ['model_name', 'engine'];
    this.#promptTokens = new Counter({
      name: 'vllm:prompt_tokens_total',
      help: 'Number of prefill tokens processed.',
      labelNames,
      registers,
    });
    this.#generationTokens = new Counter({
      name: 'vllm:generation_tokens_total',
      help: 'Number of generation tokens processed.',
      labelNames,
      registers,
    });
    this.#success = new Counter({
      name: 'vllm:request_success_total',
      help: 'Count of successfully processed requests.',
      labelNames: [...labelNames, 'finished_reason'],
      registers,
    });
  }

  /** A request for `model` enters the engine, waiting. */
  admit(requestedModel: string): EngineRequest {
    const model = this.#modelLabel(requestedModel);
    const state = this.#state(model);
    const labels = { model_name: model, engine: ENGINE };
    let phase: 'waiting' | 'running' | 'done' = 'waiting';
    let kvTokens = 0;
    state.waiting += 1;
    const leave = (): void => {
      if (phase === 'waiting') state.waiting -= 1;
      if (phase === 'running') {
        state.running -= 1;
        state.kvTokens -= kvTokens;
      }
      phase = 'done';
    };
    return {
      run: (work) => {
        if (phase !== 'waiting') return;
        state.waiting -= 1;
        state.running += 1;
        kvTokens = work.promptTokens + work.generationTokens;
        state.kvTokens += kvTokens;
        phase = 'running';
        this.#promptTokens.inc(labels, work.promptTokens);
      },
      finish: (generationTokens, reason) => {
        if (phase !== 'running') return;
        leave();
        this.#generationTokens.inc(labels, generationTokens);
        this.#success.inc({ ...labels, finished_reason: reason });
      },
      release: leave,
    };
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }

  #modelLabel(model: string): string {
    return this.#models.has(model) || this.#models.size < MAX_MODELS ? model : OVERFLOW_MODEL;
  }

  /** A model's state, its counters shown at zero from the first request on, as vLLM shows them. */
  #state(model: string): ModelState {
    let state = this.#models.get(model);
    if (state === undefined) {
      state = { waiting: 0, running: 0, kvTokens: 0 };
      this.#models.set(model, state);
      const labels = { model_name: model, engine: ENGINE };
      this.#promptTokens.inc(labels, 0);
      this.#generationTokens.inc(labels, 0);
      for (const reason of FINISHED_REASONS) this.#success.inc({ ...labels, finished_reason: reason }, 0);
    }
    return state;
  }
}
