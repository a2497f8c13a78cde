/**
 * `pertoken reconcile --apply` (DESIGN §3, §5): closes the gaps whose cause is the *price* — the
 * bill is the truth and our list price was not — by appending one adjustment per such row, for
 * billed − metered (the metered side is already net of earlier adjustments). Events are never
 * rewritten. Every other code is left alone: bypass, unexplained and billing_only need a person,
 * unpriced and estimated_usage are fixed at their source (a price, then reprice; the usage), and
 * day_boundary nets out across midnight.
 *
 * Each adjustment is dated at its row's day 12:00 UTC: inside the day whatever the reader's
 * rounding, and far from midnight, so it can never land on the neighbouring day. Its id is
 * deterministic (adjustment-id.ts), so a second --apply over the same window adds nothing, and
 * a rerun reports the closed rows as `match`.
 */
import type { ManualAdjustment } from '../../ledger/index.js';
import { formatUsd, parseUsd } from '../../money.js';
import { reconcileAdjustmentId } from './adjustment-id.js';
import type { ReconciliationJson, ReconciliationRow } from './engine.js';
import type { ExplanationCode } from './explain.js';

export const APPLIED_CODES = ['price_mismatch', 'negotiated_discount', 'batch_discount', 'credit'] as const;
export type AppliedCode = (typeof APPLIED_CODES)[number];

/** What --apply writes with: the ledger's idempotent addAdjustment. */
export interface AdjustmentSink {
  addAdjustment(adjustment: ManualAdjustment): Promise<boolean>;
}

export interface AppliedAdjustment {
  id: string;
  day: string;
  provider: string;
  tenant: string;
  project: string | null;
  model: string;
  bucket: string | null;
  code: AppliedCode;
  /** billed − metered, signed (negative: the bill is lower). */
  amount_usd: string;
  time: string;
  reason: string;
}

export interface ApplyResult {
  /** Adjustments appended by this run. */
  applied: AppliedAdjustment[];
  /** Rows with a gap left as they are: other codes, and price rows whose adjustment was already recorded. */
  skipped: number;
}

export function isAppliedCode(code: ExplanationCode): code is AppliedCode {
  return (APPLIED_CODES as readonly string[]).includes(code);
}

export async function applyReconciliation(sink: AdjustmentSink, result: ReconciliationJson): Promise<ApplyResult> {
  const applied: AppliedAdjustment[] = [];
  let skipped = 0;
  for (const row of result.rows) {
    const code = row.explanation.code;
    if (code === 'match') continue;
    const adjustment = isAppliedCode(code) ? toAdjustment(row, code) : null;
    if (adjustment === null) {
      skipped++;
      continue;
    }
    const added = await sink.addAdjustment({
      id: adjustment.id,
      time: new Date(adjustment.time),
      tenant: adjustment.tenant,
      project: adjustment.project,
      provider: adjustment.provider,
      model: adjustment.model,
      amount_nano: parseUsd(adjustment.amount_usd),
      reason: adjustment.reason,
    });
    if (added) applied.push(adjustment);
    else skipped++;
  }
  return { applied, skipped };
}

/** null when the row cannot carry an adjustment (no tenant, model or bill, or nothing to close). */
function toAdjustment(row: ReconciliationRow, code: AppliedCode): AppliedAdjustment | null {
  if (row.tenant === null || row.model === null || row.delta_usd === null) return null;
  const amount = parseUsd(row.delta_usd);
  if (amount === 0n) return null;
  return {
    id: reconcileAdjustmentId(row),
    day: row.day,
    provider: row.provider,
    tenant: row.tenant,
    project: row.project,
    model: row.model,
    bucket: row.bucket,
    code,
    amount_usd: formatUsd(amount),
    time: `${row.day}T12:00:00.000Z`,
    reason: `reconcile ${code}: ${row.explanation.detail}`,
  };
}

/** Per code: how many adjustments and their signed sum (the CLI's summary). */
export function appliedTotals(result: ApplyResult): {
  count: number;
  total_usd: string;
  codes: Partial<Record<AppliedCode, { count: number; usd: string }>>;
} {
  let total = 0n;
  const sums = new Map<AppliedCode, { count: number; nano: bigint }>();
  for (const a of result.applied) {
    const nano = parseUsd(a.amount_usd);
    total += nano;
    const s = sums.get(a.code) ?? { count: 0, nano: 0n };
    sums.set(a.code, { count: s.count + 1, nano: s.nano + nano });
  }
  const codes: Partial<Record<AppliedCode, { count: number; usd: string }>> = {};
  for (const code of APPLIED_CODES) {
    const s = sums.get(code);
    if (s) codes[code] = { count: s.count, usd: formatUsd(s.nano) };
  }
  return { count: result.applied.length, total_usd: formatUsd(total), codes };
}
