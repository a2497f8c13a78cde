import type { PriceBook, UnitPrice } from '../pricing/index.js';
import type { Bucket } from '../usage/index.js';
import { globMatch } from '../glob.js';
import { divCeil } from '../money.js';

/**
 * The most a request can cost, reserved against budgets before it is sent:
 * prompt tokens × the dearest input-side rate + output ceiling × the dearest output-side rate
 * + per-request fees. Rounded up; discounts ignored (the reservation may only overestimate).
 */

/**
 * Published output ceilings of common families, used when a request sets no max_tokens. First
 * match wins; config `routing.max_output_tokens` comes before this list.
 */
const KNOWN_MAX_OUTPUT: ReadonlyArray<[glob: string, tokens: number]> = [
  ['gpt-5*', 128_000],
  ['o1-mini*', 65_536],
  ['o1*', 100_000],
  ['o3*', 100_000],
  ['o4*', 100_000],
  ['gpt-4.1*', 32_768],
  ['gpt-4o*', 16_384],
  ['gpt-4-turbo*', 4_096],
  ['gpt-4', 8_192],
  ['gpt-3.5*', 4_096],
  ['claude-opus-4*', 32_000],
  ['claude-sonnet-4*', 64_000],
  ['claude-3-7-sonnet*', 64_000],
  ['claude-3-5*', 8_192],
  ['claude-3*', 4_096],
];

/** Ceiling for a model nobody told us about: generous, so a budget errs on the safe side. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 16_384;

export function maxOutputTokens(
  model: string,
  requested: number | null,
  configured: Readonly<Record<string, number>>,
): number {
  if (requested !== null) return requested;
  for (const [glob, tokens] of Object.entries(configured)) if (globMatch(glob, model)) return tokens;
  for (const [glob, tokens] of KNOWN_MAX_OUTPUT) if (globMatch(glob, model)) return tokens;
  return DEFAULT_MAX_OUTPUT_TOKENS;
}

const TEXT_INPUT: readonly Bucket[] = ['input', 'cache_write_5m', 'cache_write_1h'];
const MEDIA_INPUT: readonly Bucket[] = ['input_audio', 'input_image'];
const OUTPUT: readonly Bucket[] = ['output', 'reasoning'];

export interface WorstCaseInput {
  provider: string;
  model: string;
  at: Date;
  inputTokens: number;
  outputTokens: number;
  hasNonTextInput: boolean;
}

/** nano-USD, or null when the model has no price (such a request cannot be bounded). */
export function worstCaseCost(book: PriceBook, input: WorstCaseInput): bigint | null {
  const effective = book.rates(input.provider, input.model, input.at, input.inputTokens);
  if (!effective) return null;
  const byBucket = new Map<Bucket, UnitPrice>(effective.rates.map((r) => [r.bucket, r]));
  const dearest = (buckets: readonly Bucket[]): UnitPrice | null => {
    let best: UnitPrice | null = null;
    for (const b of buckets) {
      const rate = byBucket.get(b);
      if (rate && rate.per === 'mtok' && (best === null || rate.scaled > best.scaled)) best = rate;
    }
    return best;
  };
  const inputRate = dearest(input.hasNonTextInput ? [...TEXT_INPUT, ...MEDIA_INPUT] : TEXT_INPUT);
  const outputRate = dearest(OUTPUT) ?? inputRate;
  let total = 0n;
  if (inputRate) total += divCeil(BigInt(input.inputTokens) * inputRate.scaled, 1_000_000_000n);
  if (outputRate) total += divCeil(BigInt(input.outputTokens) * outputRate.scaled, 1_000_000_000n);
  const perRequest = byBucket.get('requests');
  if (perRequest) total += divCeil(perRequest.scaled, perRequest.per === 'unit' ? 1_000n : 1_000_000_000n);
  return total;
}
