import { PertokenError } from '../errors.js';
import { parseDecimalScaled } from '../money.js';
import type { Bucket } from '../usage/index.js';

/**
 * A rate sheet: for each of our exclusive buckets, the exact unit price that applies to it, whether
 * it came from genai-prices data or an operator override. Scaled values are USD × 1e12 per 1M
 * tokens (`mtok`) or per single unit (`unit`), as PRICE_SCALE in types.ts.
 */
export interface TierRate {
  /** The tier applies when the request's total input-side tokens are strictly greater than this. */
  start: number;
  scaled: bigint;
}

export interface RateSpec {
  per: 'mtok' | 'unit';
  base: bigint;
  /** Ascending by start. */
  tiers: TierRate[];
  /** genai-prices key, override field, or the rule a derived rate follows. */
  source: string;
  /** True for rates the data does not state (Anthropic's 1h cache-write rule). */
  derived: boolean;
}

export type RateSheet = Partial<Record<Bucket, RateSpec>>;

const SCALE_DIGITS = 12;

/**
 * genai-prices keys per bucket, first present wins. Per-1000 keys (`_kcount`) become per-unit
 * rates. Buckets absent here (tool_calls) have no catalogue price; only an override can price
 * them, and reasoning / input_image / cache_write_1h get the fallbacks of `withFallbacks`.
 */
const GENAI_KEYS: Partial<Record<Bucket, readonly string[]>> = {
  input: ['input_mtok'],
  cache_read: ['cache_read_mtok'],
  // genai-prices' cache_write_mtok is the 5-minute write (its 1h rate is a separate key).
  cache_write_5m: ['cache_write_5m_mtok', 'cache_write_mtok'],
  cache_write_1h: ['cache_write_1h_mtok'],
  input_audio: ['input_audio_mtok'],
  input_image: ['input_image_mtok'],
  output: ['output_mtok'],
  reasoning: ['output_reasoning_mtok'],
  output_audio: ['output_audio_mtok'],
  output_image: ['output_image_mtok'],
  requests: ['requests_kcount'],
  web_search: ['web_searches_kcount'],
};

/** Builds a sheet from one genai-prices price set (one entry of a model's `prices`). */
export function sheetFromGenai(prices: Readonly<Record<string, unknown>>): RateSheet {
  const sheet: RateSheet = {};
  for (const [bucket, keys] of Object.entries(GENAI_KEYS) as [Bucket, readonly string[]][]) {
    for (const key of keys) {
      const value = prices[key];
      if (value === undefined) continue;
      sheet[bucket] = genaiSpec(key, value);
      break;
    }
  }
  return withFallbacks(sheet);
}

function genaiSpec(key: string, value: unknown): RateSpec {
  const perThousand = key.endsWith('_kcount');
  // A price per 1000 units is a per-unit price with three more decimals: P/1000 × 1e12 = P × 1e9.
  const digits = perThousand ? SCALE_DIGITS - 3 : SCALE_DIGITS;
  const per = perThousand ? 'unit' : 'mtok';
  const parse = (n: unknown): bigint => {
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw badData(key, value);
    return parseDecimalScaled(n, digits, key, { excess: 'half-even' });
  };
  if (typeof value === 'number') return { per, base: parse(value), tiers: [], source: key, derived: false };
  if (
    typeof value === 'object' &&
    value !== null &&
    'base' in value &&
    'tiers' in value &&
    Array.isArray(value.tiers)
  ) {
    const tiers = value.tiers.map((tier: unknown): TierRate => {
      if (typeof tier !== 'object' || tier === null || !('start' in tier) || !('price' in tier))
        throw badData(key, value);
      const { start, price } = tier;
      if (typeof start !== 'number' || !Number.isSafeInteger(start) || start < 0) throw badData(key, value);
      return { start, scaled: parse(price) };
    });
    tiers.sort((a, b) => a.start - b.start);
    return { per, base: parse(value.base), tiers, source: key, derived: false };
  }
  throw badData(key, value);
}

function badData(key: string, value: unknown): PertokenError {
  return new PertokenError('internal', `genai-prices data: unreadable price ${key}=${JSON.stringify(value)}`);
}

/** A flat per-bucket sheet from an override (already validated and scaled). */
export function sheetFromOverride(scaledByBucket: Partial<Record<Bucket, bigint>>): RateSheet {
  const sheet: RateSheet = {};
  for (const [bucket, scaled] of Object.entries(scaledByBucket) as [Bucket, bigint][]) {
    sheet[bucket] = {
      per: bucket === 'requests' ? 'unit' : 'mtok',
      base: scaled,
      tiers: [],
      source: `override.${bucket}`,
      derived: false,
    };
  }
  return withFallbacks(sheet);
}

/**
 * Rules shared by both sources:
 * - reasoning is billed as output unless a reasoning price exists (DESIGN §4);
 * - image input is billed at the text input rate unless it has its own price (how OpenAI, Anthropic
 *   and Google bill vision input, and genai-prices' own ancestor rule);
 * - a model that bills 5-minute cache writes but states no 1-hour rate gets Anthropic's published
 *   rule, 1h write = 2 × base input (5m write = 1.25 × base input), tier by tier.
 * Audio and image output get no fallback: their rates differ from text by an order of magnitude,
 * so tokens there without a price leave the event unpriced instead of under-billed.
 */
function withFallbacks(sheet: RateSheet): RateSheet {
  const out: RateSheet = { ...sheet };
  if (!out.reasoning && out.output) out.reasoning = out.output;
  if (!out.input_image && out.input) out.input_image = out.input;
  if (!out.cache_write_1h && out.cache_write_5m && out.input) {
    const input = out.input;
    out.cache_write_1h = {
      per: 'mtok',
      base: input.base * 2n,
      tiers: input.tiers.map((t) => ({ start: t.start, scaled: t.scaled * 2n })),
      source: '2x input (Anthropic 1h cache-write rule)',
      derived: true,
    };
  }
  return out;
}

export interface SelectedRate {
  scaled: bigint;
  /** The tier's `start` when a tier above the base applied, else null. */
  tierStart: number | null;
}

/**
 * Tier choice as genai-prices makes it: the last tier whose start the request's total input tokens
 * (uncached + cache read + cache writes + audio/image input) exceed, and that rate then prices every
 * token of the kind, not just those above the threshold. `'max'` picks the highest tier.
 */
export function selectRate(spec: RateSpec, inputTotal: number | 'max'): SelectedRate {
  let selected: SelectedRate = { scaled: spec.base, tierStart: null };
  for (const tier of spec.tiers) {
    if (inputTotal === 'max' || inputTotal > tier.start) selected = { scaled: tier.scaled, tierStart: tier.start };
  }
  return selected;
}
