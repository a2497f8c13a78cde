/**
 * What the demo upstream would bill: the tokens it really served, per UTC day × provider ×
 * project (OpenAI) or workspace (Anthropic) × served model, recorded when a reply's engine work
 * ends (the same moment engine-metrics.ts counts generated tokens), so the Admin API's usage and
 * cost reports (admin-api.ts) agree with what clients were sent.
 */
import type { Wire } from './wire-errors.js';

export const DAY_MS = 86_400_000;

/** The input side of one request's bill, known when the route plans its answer. */
export interface BilledInput {
  wire: Wire;
  /** The served (dated) model, as the provider's reports name it. */
  model: string;
  uncached: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

/** One day's totals of one account and model. */
export interface BilledDay {
  /** UTC midnight, ms. */
  day: number;
  wire: Wire;
  /** OpenAI project id, or Anthropic workspace id (null: the default workspace). */
  account: string | null;
  model: string;
  uncached: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  output: number;
  requests: number;
}

export class BillingLedger {
  readonly #days = new Map<string, BilledDay>();

  record(input: BilledInput, output: number, account: string | null, at: number = Date.now()): void {
    const day = Math.floor(at / DAY_MS) * DAY_MS;
    const key = JSON.stringify([day, input.wire, account, input.model]);
    let row = this.#days.get(key);
    if (row === undefined) {
      row = {
        day,
        wire: input.wire,
        account,
        model: input.model,
        uncached: 0,
        cacheRead: 0,
        cacheWrite5m: 0,
        cacheWrite1h: 0,
        output: 0,
        requests: 0,
      };
      this.#days.set(key, row);
    }
    row.uncached += input.uncached;
    row.cacheRead += input.cacheRead;
    row.cacheWrite5m += input.cacheWrite5m;
    row.cacheWrite1h += input.cacheWrite1h;
    row.output += output;
    row.requests += 1;
  }

  /** The days of one provider in [from, to), in day then account then model order. */
  days(wire: Wire, from: number, to: number): BilledDay[] {
    return [...this.#days.values()]
      .filter((r) => r.wire === wire && r.day >= from && r.day < to)
      .sort(
        (a, b) => a.day - b.day || (a.account ?? '').localeCompare(b.account ?? '') || a.model.localeCompare(b.model),
      );
  }
}
