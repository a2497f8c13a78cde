/**
 * The FOCUS 1.2 columns pertoken exports (reference: billing-formats.md §1.2–1.7), in a fixed
 * order: the FOCUS columns alphabetically, as the spec allows, then our `x_` columns. Every value
 * is already text when it reaches the CSV writer; null is an empty field (T9).
 *
 * Value formats, one rule per kind:
 * - Decimal: the shortest exact decimal text with at least one decimal digit (`3.0`, `0.00045`):
 *   the official validator infers a column of bare integers as Integer and fails it (T9). Money is
 *   exact to the nano-USD (9 places); trailing zeros are trimmed because parsing is exact either
 *   way and a month of hourly rows is mostly zeros otherwise.
 * - DateTime: UTC `YYYY-MM-DDTHH:mm:ssZ`, no fractional seconds (the validator's regex).
 * - JSON: a flat JSON object (Tags, SkuPriceDetails).
 */

import type { Bucket } from '../usage/index.js';

/**
 * The validator's applicability criteria (reference §1.2), declared rather than implied: which
 * Conditional columns apply to a pertoken export, and why.
 */
export const FOCUS_FEATURES = {
  /** BillingAccountName (the organisation) and SubAccountName (the tenant). */
  ACCOUNT_NAMING_SUPPORTED: true,
  AVAILABILITY_ZONE_SUPPORTED: false,
  CAPACITY_RESERVATION_SUPPORTED: false,
  /** A pool's reserved rate is already its usd_per_gpu_hour; nothing is amortised here. */
  COMMITMENT_DISCOUNT_SUPPORTED: false,
  /**
   * Every usage row is `Standard` ([CONV]: batch and priority tiers are predetermined rates).
   * PricingCategory is exported anyway, so that tools grouping by it see a value.
   */
  MULTIPLE_PRICING_CATEGORIES_SUPPORTED: false,
  MULTIPLE_SUB_ACCOUNT_TYPES_SUPPORTED: false,
  MULTIPLE_BILLING_ACCOUNT_TYPES_SUPPORTED: false,
  /**
   * The ledger records one price per event, after any negotiated discount of a price-book
   * override: list and contracted prices cannot be told apart, so ContractedCost = ListCost
   * (the spec's default) and ContractedUnitPrice is not exported.
   */
  NEGOTIATED_PRICING_SUPPORTED: false,
  /** The price book (genai-prices data + overrides) is the price list ListUnitPrice comes from. */
  PUBLIC_PRICE_LIST_SUPPORTED: true,
  USAGE_MEASUREMENT_SUPPORTED: true,
  UNIT_PRICING_SUPPORTED: true,
  /** SubAccount = the tenant. */
  SUB_ACCOUNT_SUPPORTED: true,
  /** GPU pools are provisioned, but their cost arrives as true-up and idle rows; x_Pool names them. */
  BILLING_BASED_ON_PROVISIONED_RESOURCES_SUPPORTED: false,
  RESOURCE_TYPE_ASSIGNMENT_SUPPORTED: false,
  PRICING_BILLING_CURRENCY_DIFFERENCES_SUPPORTED: false,
  VIRTUAL_CURRENCY_SUPPORTED: false,
  REGION_SUPPORTED: false,
  /** Tags = {"tenant", "project"}: the operator's own attribution, so unprefixed. */
  TAGGING_SUPPORTED: true,
} as const;

export type FocusType = 'String' | 'Decimal' | 'DateTime' | 'JSON' | 'Integer';
export type FocusLevel = 'Mandatory' | 'Conditional' | 'Recommended' | 'Custom';

export interface FocusColumnSpec {
  readonly name: string;
  readonly type: FocusType;
  readonly level: FocusLevel;
  readonly nullable: boolean;
  /** The values the spec allows, where it fixes them (custom columns: the values we emit). */
  readonly allowed?: readonly string[];
}

export const CHARGE_CATEGORIES = ['Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment'] as const;
export const CHARGE_FREQUENCIES = ['One-Time', 'Recurring', 'Usage-Based'] as const;
export const PRICING_CATEGORIES = ['Standard', 'Dynamic', 'Committed', 'Other'] as const;
/** What made the row, for a reader who wants our own split of the FOCUS categories. */
export const COST_KINDS = ['usage', 'adjustment', 'pool_trueup', 'idle', 'shared'] as const;

export type ChargeCategory = (typeof CHARGE_CATEGORIES)[number];
export type ChargeFrequency = (typeof CHARGE_FREQUENCIES)[number];
export type CostKind = (typeof COST_KINDS)[number];

function column<N extends string>(
  name: N,
  type: FocusType,
  level: FocusLevel,
  nullable: boolean,
  allowed?: readonly string[],
): FocusColumnSpec & { readonly name: N } {
  return Object.freeze({ name, type, level, nullable, ...(allowed ? { allowed } : {}) });
}

const M = 'Mandatory';
const C = 'Conditional';
const R = 'Recommended';
const X = 'Custom';

/**
 * The exported columns, in file order. All 21 Mandatory FOCUS 1.2 columns, the two Recommended
 * ones that apply (ChargeFrequency, ServiceSubcategory) and the Conditional ones FOCUS_FEATURES
 * switches on. Left out: availability zones, capacity reservations, commitment discounts,
 * regions, resources, pricing currency, account types (one type each), InvoiceId (pertoken issues
 * no invoice) and ContractedUnitPrice (see NEGOTIATED_PRICING_SUPPORTED).
 */
export const FOCUS_COLUMNS = [
  column('BilledCost', 'Decimal', M, false),
  column('BillingAccountId', 'String', M, false),
  column('BillingAccountName', 'String', M, true),
  column('BillingCurrency', 'String', M, false),
  column('BillingPeriodEnd', 'DateTime', M, false),
  column('BillingPeriodStart', 'DateTime', M, false),
  column('ChargeCategory', 'String', M, false, CHARGE_CATEGORIES),
  column('ChargeClass', 'String', M, true, ['Correction']),
  column('ChargeDescription', 'String', M, true),
  column('ChargeFrequency', 'String', R, false, CHARGE_FREQUENCIES),
  column('ChargePeriodEnd', 'DateTime', M, false),
  column('ChargePeriodStart', 'DateTime', M, false),
  column('ConsumedQuantity', 'Decimal', C, true),
  column('ConsumedUnit', 'String', C, true),
  column('ContractedCost', 'Decimal', M, false),
  column('EffectiveCost', 'Decimal', M, false),
  column('InvoiceIssuerName', 'String', M, false),
  column('ListCost', 'Decimal', M, false),
  column('ListUnitPrice', 'Decimal', C, true),
  column('PricingCategory', 'String', C, true, PRICING_CATEGORIES),
  column('PricingQuantity', 'Decimal', M, true),
  column('PricingUnit', 'String', M, true),
  column('ProviderName', 'String', M, false),
  column('PublisherName', 'String', M, false),
  column('ServiceCategory', 'String', M, false),
  column('ServiceName', 'String', M, false),
  column('ServiceSubcategory', 'String', R, false),
  column('SkuId', 'String', C, true),
  column('SkuMeter', 'String', C, true),
  column('SkuPriceDetails', 'JSON', C, true),
  column('SkuPriceId', 'String', C, true),
  column('SubAccountId', 'String', C, true),
  column('SubAccountName', 'String', C, true),
  column('Tags', 'JSON', C, true),
  column('x_CostKind', 'String', X, false, COST_KINDS),
  /** The ledger's provider id (ProviderName is the entity's display name). */
  column('x_Provider', 'String', X, true),
  column('x_Model', 'String', X, true),
  /** The canonical bucket (DESIGN §4) of a usage row. */
  column('x_TokenBucket', 'String', X, true),
  /** The GPU pool of a pool-served usage row, a true-up or an idle row. */
  column('x_Pool', 'String', X, true),
  /** The shared cost (shared_costs[].name) a shared row carries a share of. */
  column('x_SharedCost', 'String', X, true),
  /**
   * Requests of the hour × tenant × project × provider × model, on the group's first usage row
   * only (empty on the others), so that Σ x_Requests over any selection of whole groups is right.
   */
  column('x_Requests', 'Integer', X, true),
  /** Of those, the requests with no price (their tokens count, their cost is 0, never a guess). */
  column('x_UnpricedRequests', 'Integer', X, true),
] as const satisfies readonly FocusColumnSpec[];

export type FocusColumn = (typeof FOCUS_COLUMNS)[number]['name'];

/** One exported row: every column, as text; null is NULL (an empty CSV field). */
export type FocusRecord = Readonly<Record<FocusColumn, string | null>>;

// ---------------------------------------------------------------------------------------------
// Value vocabulary

export const SELF_HOSTED_SERVICE = 'Self-hosted inference';
export const SHARED_SERVICE = 'Shared costs';
export const AI = 'AI and Machine Learning';
export const GENERATIVE_AI = 'Generative AI';
/** Shared costs are overhead of the LLM platform, but not inference: the category's own "other". */
export const AI_OTHER = 'Other (AI and Machine Learning)';

/** ProviderName (= PublisherName = InvoiceIssuerName: bought direct) and ServiceName per provider id. */
export const VENDORS: ReadonlyMap<string, { readonly name: string; readonly service: string }> = new Map([
  ['openai', { name: 'OpenAI', service: 'OpenAI API' }],
  ['anthropic', { name: 'Anthropic', service: 'Claude API' }],
  ['google', { name: 'Google', service: 'Gemini API' }],
  ['azure', { name: 'Microsoft', service: 'Azure OpenAI' }],
  ['aws', { name: 'AWS', service: 'Amazon Bedrock' }],
  ['mistral', { name: 'Mistral AI', service: 'Mistral AI API' }],
  ['deepseek', { name: 'DeepSeek', service: 'DeepSeek API' }],
  ['x-ai', { name: 'xAI', service: 'xAI API' }],
  ['groq', { name: 'Groq', service: 'GroqCloud' }],
  ['cohere', { name: 'Cohere', service: 'Cohere API' }],
]);

/** SkuId token class ([CONV] §1.6) and SkuMeter per bucket; exhaustive by type. */
export const METERS: Readonly<Record<Bucket, { readonly sku: string; readonly meter: string }>> = {
  input: { sku: 'input-tokens', meter: 'Input Tokens' },
  cache_read: { sku: 'cache-read-input-tokens', meter: 'Cache Read Input Tokens' },
  cache_write_5m: { sku: 'cache-write-5m-input-tokens', meter: 'Cache Write 5m Input Tokens' },
  cache_write_1h: { sku: 'cache-write-1h-input-tokens', meter: 'Cache Write 1h Input Tokens' },
  input_audio: { sku: 'audio-input-tokens', meter: 'Audio Input Tokens' },
  input_image: { sku: 'image-input-tokens', meter: 'Image Input Tokens' },
  output: { sku: 'output-tokens', meter: 'Output Tokens' },
  reasoning: { sku: 'reasoning-output-tokens', meter: 'Reasoning Output Tokens' },
  output_audio: { sku: 'audio-output-tokens', meter: 'Audio Output Tokens' },
  output_image: { sku: 'image-output-tokens', meter: 'Image Output Tokens' },
  requests: { sku: 'requests', meter: 'Requests' },
  web_search: { sku: 'web-search-requests', meter: 'Web Search Requests' },
  tool_calls: { sku: 'tool-calls', meter: 'Tool Calls' },
};

/** A record with every column NULL, to fill in. */
export function emptyRecord(): Record<FocusColumn, string | null> {
  const record = {} as Record<FocusColumn, string | null>;
  for (const c of FOCUS_COLUMNS) record[c.name] = null;
  return record;
}
