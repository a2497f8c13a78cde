/**
 * Reconciliation (DESIGN §3 "Billing imports and reconciliation"): what the gateway metered against
 * what the provider billed, per UTC day × provider × tenant × project × model × bucket, each gap
 * explained (explain.ts). The window is read one day wider on each side so that a gap on its first
 * or last day can still be paired with the opposite gap across midnight (day_boundary); only the
 * window's own days are reported.
 */
import { invalidInput } from '../../errors.js';
import type { Store } from '../../ledger/index.js';
import { formatDecimalScaled, formatUsd, mulDivHalfEven, parseDecimalScaled } from '../../money.js';
import type { PriceBook } from '../../pricing/index.js';
import {
  explain,
  gapOf,
  isGap,
  tokensAgree,
  within,
  EXPLANATION_CODES,
  type ExplainContext,
  type Explanation,
  type ExplanationCode,
  type MicroPct,
} from './explain.js';
import { RECONCILE_ID_PREFIX } from './adjustment-id.js';
import { DAY_MS, joinSides, keyId, type Cell } from './sides.js';

export const DEFAULT_THRESHOLD_PCT = '0.5';

export interface ReconcileOptions {
  /** UTC midnights; [from, to). */
  from: Date;
  to: Date;
  /** Percent, e.g. 0.5 (parsed with parseThreshold). */
  threshold: MicroPct;
  /** Only this tenant's rows (a read key); the unmapped billing_only rows are then left out. */
  tenant?: string | null;
}

export interface ReconciliationRow {
  day: string;
  provider: string;
  tenant: string | null;
  project: string | null;
  model: string | null;
  bucket: string | null;
  metered_tokens: number;
  billed_tokens: number | null;
  metered_usd: string;
  billed_usd: string | null;
  delta_usd: string | null;
  /** Percent of the metered side, 2 decimals; null when the metered side is zero. On tokens when no cost was imported. */
  delta_pct: number | null;
  explanation: Explanation;
}

export interface ReconciliationJson {
  from: string;
  to: string;
  threshold_pct: string;
  status: 'ok' | 'gaps';
  rows: ReconciliationRow[];
  totals: {
    rows: number;
    gaps: number;
    unexplained: number;
    metered_tokens: number;
    billed_tokens: number;
    metered_usd: string;
    billed_usd: string;
    delta_usd: string;
    delta_pct: number | null;
    codes: Partial<Record<ExplanationCode, number>>;
    /** Providers with metered days but no billing row imported for them: not compared. */
    not_imported: Array<{ provider: string; days: string[] }>;
  };
}

/** `threshold_pct` / `--threshold`: a percent in [0, 100], at most 6 decimals. */
export function parseThreshold(value: string | null | undefined, param: string): MicroPct {
  const micro = parseDecimalScaled(value ?? DEFAULT_THRESHOLD_PCT, 6, param, { nonNegative: true });
  if (micro > 100_000_000n) throw invalidInput(param, 'a percent between 0 and 100');
  return micro;
}

/** from/to must be UTC midnights: billing buckets are UTC days (trap T6). */
export function checkDayWindow(from: Date, to: Date, fromParam: string, toParam: string): void {
  if (from.getTime() % DAY_MS !== 0) throw invalidInput(fromParam, 'must be a UTC day (YYYY-MM-DD)');
  if (to.getTime() % DAY_MS !== 0) throw invalidInput(toParam, 'must be a UTC day (YYYY-MM-DD)');
  if (from >= to) throw invalidInput(fromParam, `must be earlier than ${toParam}`);
}

export async function reconcile(store: Store, book: PriceBook, options: ReconcileOptions): Promise<ReconciliationJson> {
  const wide = { from: new Date(options.from.getTime() - DAY_MS), to: new Date(options.to.getTime() + DAY_MS) };
  const [metered, billed, applied] = await Promise.all([
    store.queryCosts({ ...wide, groupBy: ['day', 'provider', 'tenant', 'project', 'model'], filter: {} }),
    store.queryBillingRows(wide),
    store.queryAdjustments({ ...wide, idPrefix: RECONCILE_ID_PREFIX }),
  ]);
  const { cells, notImported } = joinSides(metered, billed, book, applied);
  const live = cells.filter(
    (c) =>
      c.meteredTokens !== 0n || c.meteredNano !== 0n || (c.billedNano ?? 0n) !== 0n || (c.billedTokens ?? 0n) !== 0n,
  );
  const ctx: ExplainContext = {
    threshold: options.threshold,
    book,
    byKey: new Map(live.map((c) => [keyId(c.key), c])),
    negotiated: negotiatedDiscounts(live, options.threshold),
  };
  const first = options.from.toISOString().slice(0, 10);
  const last = options.to.toISOString().slice(0, 10);
  const tenant = options.tenant ?? null;
  const shown = live
    .filter((c) => c.key.day >= first && c.key.day < last)
    .filter((c) => tenant === null || c.key.tenant === tenant)
    .sort(byKey);
  const rows = shown.map((c) => present(c, explain(c, ctx)));

  const codes: Partial<Record<ExplanationCode, number>> = {};
  for (const r of rows) codes[r.explanation.code] = (codes[r.explanation.code] ?? 0) + 1;
  const gaps = shown.filter((c) => isGap(c, options.threshold));
  let meteredNano = 0n;
  let billedNano = 0n;
  let comparedNano = 0n;
  for (const c of shown) {
    meteredNano += c.meteredNano;
    if (c.billedNano === null) continue;
    billedNano += c.billedNano;
    comparedNano += c.meteredNano;
  }
  const delta = billedNano - comparedNano;
  return {
    from: options.from.toISOString(),
    to: options.to.toISOString(),
    threshold_pct: formatDecimalScaled(options.threshold, 6),
    status: gaps.length > 0 ? 'gaps' : 'ok',
    rows,
    totals: {
      rows: rows.length,
      gaps: gaps.length,
      unexplained: rows.filter((r) => r.explanation.code === 'unexplained').length,
      metered_tokens: Number(shown.reduce((s, c) => s + c.meteredTokens, 0n)),
      billed_tokens: Number(shown.reduce((s, c) => s + (c.billedTokens ?? 0n), 0n)),
      metered_usd: formatUsd(meteredNano),
      billed_usd: formatUsd(billedNano),
      delta_usd: formatUsd(delta),
      delta_pct: pct(delta, comparedNano),
      codes,
      not_imported: [...notImported]
        .map(([provider, days]) => ({
          provider,
          days: [...days].filter((d) => d >= first && d < last).sort(),
        }))
        .filter((p) => p.days.length > 0)
        .sort((a, b) => a.provider.localeCompare(b.provider)),
    },
  };
}

/** A gap row unexplained and past the threshold: what makes `pertoken reconcile` exit 1. */
export function hasUnexplainedGap(result: ReconciliationJson): boolean {
  return result.rows.some((r) => r.explanation.code === 'unexplained');
}

export { EXPLANATION_CODES };

function present(c: Cell, explanation: Explanation): ReconciliationRow {
  const g = gapOf(c);
  const k = c.key;
  return {
    day: k.day,
    provider: k.provider,
    tenant: k.tenant,
    project: k.project,
    model: k.model,
    bucket: k.bucket,
    metered_tokens: Number(c.meteredTokens),
    billed_tokens: c.billedTokens === null ? null : Number(c.billedTokens),
    metered_usd: formatUsd(c.meteredNano),
    billed_usd: c.billedNano === null ? null : formatUsd(c.billedNano),
    delta_usd: c.billedNano === null ? null : formatUsd(c.billedNano - c.meteredNano),
    delta_pct: g === null ? null : pct(g.delta, g.base),
    explanation,
  };
}

/** delta as a percent of base, 2 decimals half-even; null for a zero base. */
function pct(delta: bigint, base: bigint): number | null {
  if (base === 0n) return null;
  return Number(formatDecimalScaled(mulDivHalfEven(delta, 10_000n, base), 2));
}

function byKey(a: Cell, b: Cell): number {
  const ka = [
    a.key.day,
    a.key.provider,
    a.key.tenant ?? '',
    a.key.project ?? '',
    a.key.model ?? '',
    a.key.bucket ?? '',
  ];
  const kb = [
    b.key.day,
    b.key.provider,
    b.key.tenant ?? '',
    b.key.project ?? '',
    b.key.model ?? '',
    b.key.bucket ?? '',
  ];
  for (let i = 0; i < ka.length; i++) {
    const d = (ka[i] ?? '').localeCompare(kb[i] ?? '');
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * A provider-wide discount: among a provider's gap rows whose tokens agree and whose bill is below
 * the metered list cost (no batch, credit, unpriced or estimated evidence), a run of ≥ 3 rows over
 * ≥ 2 model × bucket pairs whose discounts lie within the threshold (in percentage points) of each
 * other. One row alone is a price mismatch; the same cut across models is a contract.
 */
function negotiatedDiscounts(cells: readonly Cell[], threshold: MicroPct): ExplainContext['negotiated'] {
  const out: ExplainContext['negotiated'] = new Map();
  const candidates = new Map<string, Array<{ cell: Cell; micro: bigint }>>();
  for (const c of cells) {
    if (c.key.tenant === null || c.billedNano === null || c.meteredNano <= 0n || c.billedNano <= 0n) continue;
    if (c.billedNano >= c.meteredNano || c.batch || c.creditNano !== 0n || c.unpriced > 0 || c.estimated > 0) continue;
    if (within(c.billedNano - c.meteredNano, c.meteredNano, threshold)) continue;
    if (c.billedTokens !== null && !tokensAgree(c, threshold)) continue;
    const micro = mulDivHalfEven(c.meteredNano - c.billedNano, 100_000_000n, c.meteredNano);
    const list = candidates.get(c.key.provider) ?? [];
    candidates.set(c.key.provider, [...list, { cell: c, micro }]);
  }
  for (const [provider, list] of candidates) {
    list.sort((a, b) => (a.micro < b.micro ? -1 : a.micro > b.micro ? 1 : 0));
    let start = 0;
    while (start < list.length) {
      let end = start + 1;
      while (end < list.length && list[end]!.micro - list[start]!.micro <= threshold) end++;
      const run = list.slice(start, end);
      const pairs = new Set(run.map((r) => `${r.cell.key.model}\u0000${r.cell.key.bucket}`));
      if (run.length >= 3 && pairs.size >= 2) {
        const median = run[Math.floor(run.length / 2)]!.micro;
        const text = formatDecimalScaled(mulDivHalfEven(median, 1n, 10_000n), 2);
        for (const r of run) out.set(keyId(r.cell.key), { pct: text, rows: run.length, provider });
      }
      start = end;
    }
  }
  return out;
}
