/** Test helpers for attribution (excluded from the build): usage rows placed in time. */
import { configSchema, type Config } from '../../config/index.js';
import type { Buckets } from '../../usage/index.js';
import type { UsageRow, UsageSource } from '../attribute.js';
import type { Window } from '../window.js';

export interface TimedRow extends Partial<Omit<UsageRow, 'tokens'>> {
  /** When the usage happened. */
  at: string;
  tenant: string;
  provider: string;
  tokens: Buckets;
}

/** A UsageSource over fixed rows: each window gets the rows inside it, grouped like the ledger. */
export function rowsSource(rows: readonly TimedRow[]): UsageSource {
  return async (window: Window) => {
    const groups = new Map<string, UsageRow>();
    for (const row of rows) {
      const t = Date.parse(row.at);
      if (t < window.from.getTime() || t >= window.to.getTime()) continue;
      const project = row.project ?? null;
      const model = row.model ?? 'llama-3.1-8b';
      const key = JSON.stringify([row.tenant, project, row.provider, model]);
      const prev = groups.get(key);
      const tokens: Buckets = { ...(prev?.tokens ?? {}) };
      for (const [b, n] of Object.entries(row.tokens)) {
        tokens[b as keyof Buckets] = (tokens[b as keyof Buckets] ?? 0) + (n ?? 0);
      }
      groups.set(key, {
        tenant: row.tenant,
        project,
        provider: row.provider,
        model,
        requests: (prev?.requests ?? 0) + (row.requests ?? 1),
        tokens,
        costNano: (prev?.costNano ?? 0n) + (row.costNano ?? 0n),
        adjustmentsNano: (prev?.adjustmentsNano ?? 0n) + (row.adjustmentsNano ?? 0n),
      });
    }
    return [...groups.values()];
  };
}

/** The attribution sections of a config, parsed as pertoken.yaml would be. */
export function attributionConfig(sections: Record<string, unknown>): Config {
  return configSchema.parse(sections);
}
