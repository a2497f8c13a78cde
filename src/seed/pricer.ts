import { BUCKETS, type Bucket, type Buckets } from '../usage/index.js';
import type { PriceBook } from '../pricing/index.js';

/**
 * Exact prices for millions of seed events without paying a full price-book lookup per event.
 *
 * The price book is asked once per model and half-hour (the granularity of every dated and
 * time-of-day constraint in the data): a cheap probe gives the price_ref in effect, and only when
 * it changes are the rates fetched again. A line then costs quantity × rate in integer-valued
 * doubles: rate = A + B / D with A = ⌊scaled / D⌋ and B = scaled mod D, so q × A and q × B stay
 * far below 2^53 and the half-even rounding of q × B / D is done exactly — the same nano-USD the
 * price book computes with bigints (the tests compare both on every model).
 *
 * Whatever this shortcut cannot reproduce — a tier in reach of the request, a discount, a slot
 * whose price changes inside it, a bucket without a price — is priced by the book itself.
 */

const SLOT_MS = 30 * 60_000;
/** Input tokens the generator never exceeds; tiers starting above it cannot apply. */
export const MAX_SEED_INPUT = 120_000;
const DIVISOR = { mtok: 1_000_000_000, unit: 1_000 } as const;
const REQUESTS = BUCKETS.indexOf('requests');

interface Line {
  index: number;
  a: number;
  b: number;
  d: number;
}

interface Sheet {
  ref: string;
  /** null: price every event of this sheet with the book (tiers, discounts). */
  lines: Line[] | null;
  /** price_ref (with its derived-rate suffix) per set of non-zero buckets; null = unpriced. */
  refs: Map<number, string | null>;
}

interface Slot {
  slot: number;
  /** null: unpriced in this slot, or its price changes inside the slot. */
  sheet: Sheet | null;
}

export interface SeedPrice {
  cost_nano: number | null;
  price_ref: string | null;
}

export function bucketsOf(counts: ArrayLike<number>): Buckets {
  const buckets: Buckets = {};
  for (let i = 0; i < BUCKETS.length; i++) {
    const n = counts[i] ?? 0;
    if (n !== 0) buckets[BUCKETS[i] as Bucket] = n;
  }
  return buckets;
}

function roundHalfEven(x: number, d: number): number {
  let q = Math.floor(x / d);
  let r = x - q * d;
  // The float quotient can land one off; the remainder corrects it exactly.
  if (r < 0) {
    q -= 1;
    r += d;
  } else if (r >= d) {
    q += 1;
    r -= d;
  }
  if (2 * r > d || (2 * r === d && q % 2 === 1)) q += 1;
  return q;
}

export class SeedPricer {
  readonly #book: PriceBook;
  readonly #slots = new Map<string, Slot>();
  readonly #sheets = new Map<string, Sheet>();
  /** Events priced through the book instead of the shortcut (for tests and the curious). */
  slowPath = 0;

  constructor(book: PriceBook) {
    this.#book = book;
  }

  price(provider: string, model: string, timeMs: number, counts: ArrayLike<number>): SeedPrice {
    const key = `${provider}\u0000${model}`;
    const slotIndex = Math.floor(timeMs / SLOT_MS);
    let slot = this.#slots.get(key);
    if (slot === undefined || slot.slot !== slotIndex) {
      slot = { slot: slotIndex, sheet: this.#sheetFor(provider, model, slotIndex) };
      this.#slots.set(key, slot);
    }
    const sheet = slot.sheet;
    if (sheet === null || sheet.lines === null) return this.#slow(provider, model, timeMs, counts);
    let mask = 0;
    for (let i = 0; i < counts.length; i++) if ((counts[i] ?? 0) !== 0) mask |= 1 << i;
    let ref = sheet.refs.get(mask);
    if (ref === undefined) {
      // Which buckets are used decides the ref suffix (derived rates) and whether all are priced.
      const probe = this.#book.price({
        provider,
        model,
        at: new Date(slotIndex * SLOT_MS),
        buckets: bucketsOf(maskCounts(mask)),
      });
      ref = probe.cost_nano === null ? null : probe.price_ref;
      sheet.refs.set(mask, ref);
    }
    if (ref === null) return this.#slow(provider, model, timeMs, counts);
    let cost = 0;
    for (const line of sheet.lines) {
      let q = counts[line.index] ?? 0;
      if (line.index === REQUESTS && q === 0) q = 1; // one event is one call (as the book does)
      if (q === 0) continue;
      cost += q * line.a + roundHalfEven(q * line.b, line.d);
    }
    return { cost_nano: cost, price_ref: ref };
  }

  #slow(provider: string, model: string, timeMs: number, counts: ArrayLike<number>): SeedPrice {
    this.slowPath++;
    const result = this.#book.price({ provider, model, at: new Date(timeMs), buckets: bucketsOf(counts) });
    return { cost_nano: result.cost_nano === null ? null : Number(result.cost_nano), price_ref: result.price_ref };
  }

  #sheetFor(provider: string, model: string, slot: number): Sheet | null {
    const start = new Date(slot * SLOT_MS);
    const end = new Date(slot * SLOT_MS + SLOT_MS - 1);
    const probe = { provider, model, buckets: { input: 1 } };
    const first = this.#book.price({ ...probe, at: start });
    const last = this.#book.price({ ...probe, at: end });
    if (first.cost_nano === null || first.price_ref === null || first.price_ref !== last.price_ref) return null;
    const id = `${provider}\u0000${model}\u0000${first.price_ref}`;
    const known = this.#sheets.get(id);
    if (known) return known;
    const sheet: Sheet = { ref: first.price_ref, lines: this.#lines(provider, model, start), refs: new Map() };
    this.#sheets.set(id, sheet);
    return sheet;
  }

  #lines(provider: string, model: string, at: Date): Line[] | null {
    const low = this.#book.rates(provider, model, at, 0);
    const high = this.#book.rates(provider, model, at, MAX_SEED_INPUT);
    if (low === null || high === null || low.discount_pct !== null) return null;
    const same =
      low.rates.length === high.rates.length && low.rates.every((r, i) => r.scaled === high.rates[i]?.scaled);
    if (!same) return null;
    return low.rates.map((rate) => {
      const d = BigInt(DIVISOR[rate.per]);
      return {
        index: BUCKETS.indexOf(rate.bucket),
        a: Number(rate.scaled / d),
        b: Number(rate.scaled % d),
        d: DIVISOR[rate.per],
      };
    });
  }
}

function maskCounts(mask: number): number[] {
  return BUCKETS.map((_, i) => ((mask >>> i) & 1 ? 1 : 0));
}
