/**
 * `GET /api/v1/reconciliation/summary`: per provider × month, metered against billed and how much
 * of the gap the explanations account for — the one number to watch month over month.
 */
import { formatDecimalScaled, formatUsd, mulDivHalfEven, parseUsd } from '../../money.js';
import { abs } from './explain.js';
import type { ReconciliationJson } from './engine.js';

export interface ReconciliationSummaryLine {
  month: string;
  provider: string;
  rows: number;
  gaps: number;
  unexplained: number;
  metered_usd: string;
  /** Over the rows whose bill carries a cost (usage-only imports add nothing here). */
  billed_usd: string;
  delta_usd: string;
  /** Σ |delta| of the rows past the threshold. */
  gap_usd: string;
  /** The part of gap_usd whose rows have an explanation other than `unexplained`. */
  explained_usd: string;
  /** explained_usd / gap_usd in percent, 2 decimals; 100 when there is no gap. */
  explained_pct: number;
}

export interface ReconciliationSummaryJson {
  from: string;
  to: string;
  threshold_pct: string;
  status: 'ok' | 'gaps';
  months: ReconciliationSummaryLine[];
}

interface Sums {
  rows: number;
  gaps: number;
  unexplained: number;
  metered: bigint;
  billed: bigint;
  compared: bigint;
  gap: bigint;
  explained: bigint;
}

export function summarize(result: ReconciliationJson): ReconciliationSummaryJson {
  const sums = new Map<string, Sums>();
  for (const r of result.rows) {
    const id = `${r.day.slice(0, 7)}\u0000${r.provider}`;
    const s = sums.get(id) ?? {
      rows: 0,
      gaps: 0,
      unexplained: 0,
      metered: 0n,
      billed: 0n,
      compared: 0n,
      gap: 0n,
      explained: 0n,
    };
    sums.set(id, s);
    s.rows++;
    const metered = parseUsd(r.metered_usd);
    s.metered += metered;
    if (r.billed_usd !== null) {
      s.billed += parseUsd(r.billed_usd);
      s.compared += metered;
    }
    if (r.explanation.code === 'match') continue;
    s.gaps++;
    const delta = abs(r.delta_usd === null ? 0n : parseUsd(r.delta_usd));
    s.gap += delta;
    if (r.explanation.code === 'unexplained') s.unexplained++;
    else s.explained += delta;
  }
  const months = [...sums]
    .map(([id, s]) => {
      const [month = '', provider = ''] = id.split('\u0000');
      return {
        month,
        provider,
        rows: s.rows,
        gaps: s.gaps,
        unexplained: s.unexplained,
        metered_usd: formatUsd(s.metered),
        billed_usd: formatUsd(s.billed),
        delta_usd: formatUsd(s.billed - s.compared),
        gap_usd: formatUsd(s.gap),
        explained_usd: formatUsd(s.explained),
        explained_pct: s.gap === 0n ? 100 : Number(formatDecimalScaled(mulDivHalfEven(s.explained, 10_000n, s.gap), 2)),
      };
    })
    .sort((a, b) => a.month.localeCompare(b.month) || a.provider.localeCompare(b.provider));
  return { from: result.from, to: result.to, threshold_pct: result.threshold_pct, status: result.status, months };
}
