import { randomInt } from 'node:crypto';
import { invalidInput } from '../errors.js';
import type { FaultScript } from './faults.js';
import type { DemoConfig } from './generation.js';
import type { PromptCache } from './prompt-cache.js';

export interface DemoOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (ephemeral). */
  port?: number;
  /** Time to the first streamed content chunk, and the base latency of non-stream replies; default 200. */
  ttftMs?: number;
  /** Gap between streamed content chunks; default 20. */
  itlMs?: number;
  /** Output tokens per streamed content chunk; default 1. */
  tokensPerChunk?: number;
  /** Seed of all generated lengths, text and vectors; default a random seed per server. */
  seed?: number;
  /** Natural output length when the request's limit does not cut it; default 64..256 per request. */
  maxOutputTokens?: number;
  /** Faults for requests without an `x-demo-fault` header. */
  script?: FaultScript;
  /**
   * The memory of prompt prefixes behind cached-token counts; default a fresh one per server. Pass
   * one to share it between servers, to bound or clock it, or to reset it between tests.
   */
  promptCache?: PromptCache;
  /** The one admin key the Admin API reports accept; default any non-empty key. */
  adminKey?: string;
}

export function resolveOptions(opts: DemoOptions): DemoConfig {
  return {
    ttftMs: nonNegative('ttftMs', opts.ttftMs, 200),
    itlMs: nonNegative('itlMs', opts.itlMs, 20),
    tokensPerChunk: positiveInteger('tokensPerChunk', opts.tokensPerChunk) ?? 1,
    seed: opts.seed === undefined ? randomInt(2 ** 31) : integer('seed', opts.seed),
    maxOutputTokens: positiveInteger('maxOutputTokens', opts.maxOutputTokens),
  };
}

// Options are configuration, not a request, hence the `config_invalid` code.

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw invalidInput(name, `demo upstream: ${name} must be a finite number >= 0`, 'config_invalid');
  }
  return value;
}

function positiveInteger(name: string, value: number | undefined): number | null {
  if (value === undefined) return null;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalidInput(name, `demo upstream: ${name} must be an integer >= 1`, 'config_invalid');
  }
  return value;
}

function integer(name: string, value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw invalidInput(name, `demo upstream: ${name} must be an integer`, 'config_invalid');
  }
  return value;
}
