export * from './types.js';
export { addBuckets, bucketsTotal, normalizeBuckets, priceableCount, sanitizeBuckets } from './buckets.js';
export { buildUsage, checkUsage, MAX_PLAUSIBLE_BUCKET } from './check.js';
export {
  CHAT_REPLY_PRIMING_TOKENS,
  CHAT_TOKENS_PER_MESSAGE,
  countByRatio,
  countTokens,
  estimateUsage,
  NON_TEXT_LOWER_BOUND_ISSUE,
  tokenCountingFor,
  type BpeEncoding,
  type EstimateInput,
  type TokenCounting,
} from './estimate.js';
