/**
 * Bounded label values for /metrics. A label such as `tenant` or `model` takes every value a
 * caller sends, and each value is a new series in Prometheus forever; so only the `limit` values
 * that matter most keep their own series and the rest are folded into `other`.
 *
 * Which values matter is decided by a ranking the ledger gauges recompute in the background
 * (spend-gauges.ts), never per request. Until a ranking exists, and while the kept set has room,
 * new values are admitted in the order they are seen, so a small install is never folded at all.
 */

/** The label value every folded tenant or model is counted under. */
export const OTHER = 'other';

/**
 * An incumbent keeps its place unless a newcomer outranks it by this factor: two values near the
 * cut-off would otherwise swap at every ranking and make both series flap.
 */
export const INCUMBENT_BONUS = 1.25;

/** A candidate of a ranking: its score (spend in USD, say) and a tie-breaker (requests). */
export interface RankedValue {
  value: string;
  score: number;
  tiebreak: number;
}

export class TopValues {
  readonly limit: number;
  #kept = new Set<string>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`label limit must be a positive integer`);
    this.limit = limit;
  }

  /** The value as exported: itself when kept (or admitted while there is room), else `other`. */
  fold(value: string): string {
    if (this.#kept.has(value)) return value;
    if (this.#kept.size < this.limit) {
      this.#kept.add(value);
      return value;
    }
    return OTHER;
  }

  /** Whether `value` has its own series now (without admitting it). */
  has(value: string): boolean {
    return this.#kept.has(value);
  }

  /** The kept values, sorted. */
  values(): string[] {
    return [...this.#kept].sort();
  }

  /**
   * Replaces the kept set with the top `limit` candidates. `pinned` values come first (a tenant
   * named by a budget must keep its series, or the budget's burn-rate rule has nothing to join);
   * incumbents get INCUMBENT_BONUS on both score and tie-breaker; remaining ties go by name so
   * every replica ranks alike. Candidates with no spend and no requests are not kept.
   */
  rank(candidates: Iterable<RankedValue>, pinned: ReadonlySet<string> = new Set()): void {
    const scored = [...candidates]
      .filter((c) => c.value !== OTHER && (c.score > 0 || c.tiebreak > 0 || pinned.has(c.value)))
      .map((c) => {
        const bonus = this.#kept.has(c.value) ? INCUMBENT_BONUS : 1;
        return { value: c.value, pinned: pinned.has(c.value), score: c.score * bonus, tiebreak: c.tiebreak * bonus };
      });
    for (const value of pinned)
      if (value !== OTHER && !scored.some((c) => c.value === value))
        scored.push({ value, pinned: true, score: 0, tiebreak: 0 });
    scored.sort(
      (a, b) =>
        Number(b.pinned) - Number(a.pinned) ||
        b.score - a.score ||
        b.tiebreak - a.tiebreak ||
        (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
    );
    this.#kept = new Set(scored.slice(0, this.limit).map((c) => c.value));
  }
}
