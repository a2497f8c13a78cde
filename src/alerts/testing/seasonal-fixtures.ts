/**
 * Test helpers of the statistical detectors (anomaly, inflation, quality): hourly traffic with a
 * realistic weekly shape — office hours, a late-morning peak, quiet nights, weekends at a quarter,
 * a Monday-morning peak — and deterministic noise, as ledger events. Excluded from the build.
 */
import { alertsSchema, type AlertsConfig } from '../../config/index.js';
import type { Store, UsageEvent } from '../../ledger/index.js';
import { makeEvent, seededRandom } from '../../ledger/testing/fixtures.js';
import type { Bucket, Buckets } from '../../usage/index.js';
import type { DetectContext } from '../detect.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** USD per 1M tokens, per bucket (absent: free). */
export const PRICES: Record<string, Partial<Record<Bucket, number>>> = {
  'gpt-4o': { input: 2.5, cache_read: 1.25, output: 10 },
  'gpt-4o-mini': { input: 0.15, cache_read: 0.075, output: 0.6 },
  'claude-sonnet-4': { input: 3, cache_read: 0.3, cache_write_5m: 3.75, output: 15 },
  'claude-haiku-4': { input: 1, cache_read: 0.1, cache_write_5m: 1.25, output: 5 },
};

/** Exact nano-USD of some buckets at PRICES (USD/M × tokens × 1000 = nano-USD). */
export function priceNano(model: string, buckets: Buckets): bigint {
  let nano = 0;
  for (const [bucket, n] of Object.entries(buckets) as Array<[Bucket, number]>) {
    nano += (PRICES[model]?.[bucket] ?? 0) * n * 1000;
  }
  return BigInt(Math.round(nano));
}

/** Share of a weekday office hour's traffic in the hour starting at `ms` (UTC). */
export function profile(ms: number): number {
  const d = new Date(ms);
  const day = d.getUTCDay();
  const h = d.getUTCHours();
  let level = h >= 8 && h < 18 ? 1 : h >= 6 && h < 20 ? 0.5 : 0.12;
  if (h >= 10 && h < 12) level *= 1.2;
  if (day === 0 || day === 6) level *= 0.25;
  if (day === 1 && h >= 9 && h < 12) level *= 1.6;
  return level;
}

/** What changes in one hour of a stream: factors on the request count and on each request's tokens. */
export interface Incident {
  requests?: number;
  tokens?: number;
  /** Per-request buckets that replace the stream's own (a cache-miss storm). */
  buckets?: Buckets;
}

export interface Stream {
  tenant: string;
  project: string | null;
  feature: string | null;
  key: string | null;
  model: string;
  /** Requests in a weekday office hour. */
  peak: number;
  /** Tokens of one request. */
  buckets: Buckets;
  seed: number;
  /** Active hours [from, to); defaults to the whole range generated. */
  from?: string;
  incident?: (hourMs: number) => Incident | null;
}

/**
 * The stream's events over whole hours [fromMs, toMs): round(peak × profile × noise) requests an
 * hour (noise ±10%), spread over the hour, tokens ±5% per request, priced at PRICES.
 */
export function streamEvents(stream: Stream, fromMs: number, toMs: number): UsageEvent[] {
  const random = seededRandom(stream.seed);
  const events: UsageEvent[] = [];
  const start = Math.max(fromMs, stream.from === undefined ? fromMs : Date.parse(stream.from));
  for (let hour = fromMs; hour < toMs; hour += HOUR) {
    const noise = 0.9 + 0.2 * random();
    if (hour < start) continue;
    const incident = stream.incident?.(hour) ?? null;
    const n = Math.round(stream.peak * profile(hour) * noise * (incident?.requests ?? 1));
    for (let i = 0; i < n; i++) {
      const jitter = (0.95 + 0.1 * random()) * (incident?.tokens ?? 1);
      const buckets: Buckets = {};
      for (const [bucket, count] of Object.entries(incident?.buckets ?? stream.buckets) as Array<[Bucket, number]>) {
        buckets[bucket] = Math.round(count * jitter);
      }
      events.push(
        makeEvent({
          time: new Date(hour + Math.floor(((i + 0.5) * HOUR) / n)),
          tenant: stream.tenant,
          project: stream.project,
          feature: stream.feature,
          key_id: stream.key,
          user: null,
          provider: stream.model.startsWith('claude') ? 'anthropic' : 'openai',
          requested_model: stream.model,
          model: stream.model,
          buckets,
          cost_nano: priceNano(stream.model, buckets),
          raw_usage: null,
        }),
      );
    }
  }
  return events;
}

/** Inserts events in batches (one transaction each). */
export async function insertAll(store: Store, events: readonly UsageEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) await store.insertEvents(events.slice(i, i + 5000));
}

export function context(
  store: DetectContext['store'],
  at: string,
  config: Partial<Record<keyof AlertsConfig, unknown>> = {},
): DetectContext {
  return { at: new Date(at), store, config: alertsSchema.parse(config), budgets: [] };
}
