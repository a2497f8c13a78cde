import { DEFAULT_THRESHOLD_PCT, parseThreshold, reconcile } from '../../attribution/index.js';
import { formatUsd, parseUsd } from '../../money.js';
import type { PriceBook } from '../../pricing/index.js';
import type { Detector } from '../detect.js';
import type { Finding } from '../types.js';

const DAY_MS = 86_400_000;

export interface BillingDriftOptions {
  /** Completed UTC days compared at each evaluation. Default 7 (bills arrive a day or two late). */
  days?: number;
  /** Percent past which a row is a gap (reconcile's threshold). Default reconcile's own. */
  thresholdPct?: string;
}

/**
 * Billing drift as a `data_quality` alert: the providers' bills (imported or pulled) for the last
 * completed days differ from the metered cost by more than the threshold, and either nothing
 * explains it (variant `billing:<provider>`) or the explanation is spend that bypassed the gateway
 * (variant `bypass:<provider>`: explained, but money nobody attributed or budgeted). Stateless like every detector: it reconciles the
 * window ending at the last UTC midnight before `at`, so the alert resolves by itself once the
 * gap is explained (`pertoken reconcile --apply`) or ages out of the window. One finding per
 * provider and tenant; the unmapped bill lines (no tenant) are the organisation's.
 */
export function billingDriftDetector(priceBook: PriceBook, options: BillingDriftOptions = {}): Detector {
  const days = options.days ?? 7;
  const threshold = parseThreshold(options.thresholdPct ?? DEFAULT_THRESHOLD_PCT, 'thresholdPct');
  return async (ctx) => {
    const to = new Date(Math.floor(ctx.at.getTime() / DAY_MS) * DAY_MS);
    const from = new Date(to.getTime() - days * DAY_MS);
    const result = await reconcile(ctx.store, priceBook, { from, to, threshold });
    const groups = new Map<
      string,
      {
        code: 'unexplained' | 'bypass';
        provider: string;
        tenant: string | null;
        gap: bigint;
        metered: bigint;
        days: Set<string>;
      }
    >();
    for (const row of result.rows) {
      const code = row.explanation.code;
      if (code !== 'unexplained' && code !== 'bypass') continue;
      const id = `${code}\u0000${row.provider}\u0000${row.tenant ?? ''}`;
      const group = groups.get(id) ?? {
        code,
        provider: row.provider,
        tenant: row.tenant,
        gap: 0n,
        metered: 0n,
        days: new Set(),
      };
      const delta = parseUsd(row.delta_usd ?? '0');
      group.gap += delta < 0n ? -delta : delta;
      group.metered += parseUsd(row.metered_usd);
      group.days.add(row.day);
      groups.set(id, group);
    }
    return [...groups.values()].map((g): Finding => ({
      kind: 'data_quality',
      severity: 'ticket',
      scope: g.tenant === null ? {} : { tenant: g.tenant },
      variant: `${g.code === 'bypass' ? 'bypass' : 'billing'}:${g.provider}`,
      summary:
        (g.code === 'bypass'
          ? `${g.provider} billed ${formatUsd(g.gap)} USD that pertoken never metered (calls with the provider key outside the gateway)`
          : `${g.provider} bill differs from the metered cost by ${formatUsd(g.gap)} USD unexplained`) +
        ` on ${g.days.size} day(s) of ${from.toISOString().slice(0, 10)}..${to.toISOString().slice(0, 10)}` +
        `${g.tenant === null ? ' (lines mapped to no tenant)' : ` for tenant ${g.tenant}`}`,
      value: Number(g.gap) / 1e9,
      baseline: Number(g.metered) / 1e9,
    }));
  };
}
