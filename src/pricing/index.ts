/**
 * The price book: genai-prices data (pinned, never fetched at run time) + operator overrides,
 * looked up by the event's own time, priced exactly in bigint nano-USD (DESIGN §5).
 */
export * from './types.js';
export { createPriceBook, type ConfiguredPriceBook, type PriceBookOptions } from './book.js';
export { describePrices, formatPriceTable, type DescribeOptions, type PriceRow } from './describe.js';
// Exact money is the leaf `src/money.ts`; these are re-exported for the importers that already
// reach money through the price book's face.
export {
  NANO_PER_USD,
  divRoundHalfEven,
  formatDecimalScaled,
  formatUsd,
  parseDecimalScaled,
  parseUsd,
  type ParseDecimalOptions,
} from '../money.js';
export { OVERRIDE_PRICE_FIELDS, type DecimalInput, type PriceOverride } from './overrides.js';
export { priceMediaTokens, priceMediaUnits, type MediaPriceQuery, type MediaUnits } from './media.js';
