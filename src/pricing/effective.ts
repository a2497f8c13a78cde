import type { CatalogEntry } from './genai.js';
import type { CompiledOverride, Percent } from './overrides.js';
import type { RateSheet } from './sheet.js';

/** Everything one lookup decided: where the rates come from and what modifies them. */
export interface Effective {
  source: 'genai-prices' | 'override';
  sheet: RateSheet;
  /** price_ref without tier/derivation/discount suffixes. */
  baseRef: string;
  discount: Percent | null;
  batchDiscount: Percent | null;
  /** The catalogue entry and the index of the price variant in effect (genai-prices source). */
  catalog: { entry: CatalogEntry; variantIndex: number } | null;
  /** Every override in effect, highest precedence first. */
  inEffect: CompiledOverride[];
  /** The model's names overrides are matched against: as asked, plus its catalogue id. */
  names: string[];
}
