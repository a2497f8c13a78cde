/**
 * FOCUS 1.2 CSV (billing-formats §1.2-1.5), read as a stream of records. Every row is kept:
 * the amount is BilledCost (the invoice basis; EffectiveCost amortises commitments and ListCost
 * double counts them, trap T13) and ChargeCategory says whether it is Usage, Tax, Credit or a
 * Purchase. LLM token rows are recognised by their unit (ConsumedUnit "Tokens", else a PricingUnit
 * such as "1000000 Tokens"), never by "token" in a currency (trap T8); their token class comes
 * from x_TokenType (column or SkuPriceDetails), else from the SkuMeter / ChargeDescription wording.
 */
import { invalidInput, PertokenError } from '../../errors.js';
import { usdToNano } from '../../money.js';
import { BUCKETS, type Bucket } from '../../usage/index.js';
import { TOKEN_TYPES } from './anthropic-cost.js';
import { csvRecords } from './csv.js';
import { COMPONENTS } from './openai-costs.js';
import { instant, rowKey, wholeCount, type BillingLine, type ParsedFile, type Rejection } from './rows.js';

const REQUIRED = [
  'BilledCost',
  'BillingAccountId',
  'BillingCurrency',
  'ChargeCategory',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ProviderName',
] as const;

/** FOCUS ProviderName -> pertoken provider id; others are lower-cased with blanks as "-". */
const PROVIDERS: Readonly<Record<string, string>> = {
  'amazon web services': 'aws',
  aws: 'aws',
  microsoft: 'azure',
  'microsoft azure': 'azure',
  azure: 'azure',
  google: 'gcp',
  'google cloud': 'gcp',
  'google cloud platform': 'gcp',
  gcp: 'gcp',
};

export function focusProvider(name: string): string {
  const key = name.trim().toLowerCase();
  return PROVIDERS[key] ?? key.replace(/[^a-z0-9._-]+/g, '-');
}

/** x_TokenType values: canonical buckets, the Anthropic token_type names, the OpenAI labels. */
function tokenTypeBucket(value: string): Bucket | undefined {
  if ((BUCKETS as readonly string[]).includes(value)) return value as Bucket;
  return TOKEN_TYPES[value] ?? COMPONENTS[value.replaceAll('_', ' ')];
}

/** The token class in a meter's or description's words ("Cache Write Input Tokens (1h TTL)"). */
function wordedBucket(text: string): Bucket | undefined {
  if (/cache (read|hit)|cached/i.test(text)) return 'cache_read';
  if (/cache (write|creation)/i.test(text)) return /\b1h\b/i.test(text) ? 'cache_write_1h' : 'cache_write_5m';
  if (/output/i.test(text)) return 'output';
  if (/input/i.test(text)) return 'input';
  return undefined;
}

export async function parseFocus(chunks: AsyncIterable<string>, file: string): Promise<ParsedFile> {
  const lines: BillingLine[] = [];
  const rejected: Rejection[] = [];
  let header: Map<string, number> | null = null;
  try {
    for await (const record of csvRecords(chunks)) {
      if (header === null) {
        header = new Map(record.fields.map((name, i) => [(name ?? '').replace(/^\uFEFF/, ''), i]));
        const missing = REQUIRED.filter((c) => !header!.has(c));
        if (missing.length > 0)
          throw invalidInput(`line ${record.line}`, `missing FOCUS columns: ${missing.join(', ')}`);
        continue;
      }
      const at = `line ${record.line}`;
      if (record.fields.length !== header.size) {
        rejected.push({ file, at, reason: `${record.fields.length} fields, the header has ${header.size}` });
        continue;
      }
      const cols = header;
      const get = (column: string): string | null => {
        const i = cols.get(column);
        return i === undefined ? null : (record.fields[i] ?? null);
      };
      try {
        lines.push(focusLine(get, at));
      } catch (err: unknown) {
        if (!(err instanceof PertokenError)) throw err;
        rejected.push({ file, at, reason: err.message });
      }
    }
    if (header === null) rejected.push({ file, at: 'line 1', reason: 'empty file: no FOCUS header' });
  } catch (err: unknown) {
    if (!(err instanceof PertokenError)) throw err;
    rejected.push({ file, at: err.param ?? 'file', reason: err.message });
  }
  return { lines, rejected };
}

function focusLine(get: (column: string) => string | null, at: string): BillingLine {
  const required = (column: string): string => {
    const v = get(column);
    if (v === null || v.trim() === '') throw invalidInput(at, `${column} is missing`);
    return v;
  };
  const read = <T>(column: string, parse: (v: string) => T): T => {
    const v = required(column);
    try {
      return parse(v);
    } catch (err: unknown) {
      if (err instanceof PertokenError) throw invalidInput(at, `${column}: ${err.message}`);
      throw err;
    }
  };
  const currency = required('BillingCurrency');
  if (currency !== 'USD') throw invalidInput(at, `BillingCurrency: only USD bills are imported, got "${currency}"`);
  // Providers quote more decimals than a nano-USD; rounded half-even once, here.
  const amount = read('BilledCost', (v) => usdToNano(v, 'BilledCost', { excess: 'half-even' }));
  const start = read('ChargePeriodStart', (v) => instant(v, 'ChargePeriodStart'));
  const end = read('ChargePeriodEnd', (v) => instant(v, 'ChargePeriodEnd'));
  if (end <= start) throw invalidInput(at, 'ChargePeriodEnd is not after ChargePeriodStart');
  const details = skuDetails(get('SkuPriceDetails'), at);
  const model = get('x_Model') ?? details.x_Model ?? null;
  const tier = get('x_ServiceTier') ?? details.x_ServiceTier ?? null;
  const tokenType = get('x_TokenType') ?? details.x_TokenType ?? null;
  const words = [get('SkuMeter'), get('ChargeDescription')].filter((w) => w !== null).join(' ');

  let bucket: Bucket | null = null;
  let quantity: bigint | null = null;
  const consumedUnit = get('ConsumedUnit');
  const pricingUnit = /^(\d+) Tokens$/i.exec(get('PricingUnit') ?? '');
  if (consumedUnit?.toLowerCase() === 'tokens' || (consumedUnit === null && pricingUnit)) {
    bucket = tokenType === null ? (wordedBucket(words) ?? null) : (tokenTypeBucket(tokenType) ?? null);
    if (bucket === null)
      throw invalidInput(
        at,
        tokenType === null ? 'a token row with no recognisable token class' : `unknown x_TokenType "${tokenType}"`,
      );
    quantity =
      consumedUnit !== null
        ? read('ConsumedQuantity', (v) => wholeCount(v, 'ConsumedQuantity'))
        : read('PricingQuantity', (v) => blocksToTokens(v, pricingUnit![1]!));
  } else if (consumedUnit?.toLowerCase() === 'requests' && /web search/i.test(words)) {
    bucket = 'web_search';
    quantity = read('ConsumedQuantity', (v) => wholeCount(v, 'ConsumedQuantity'));
  }
  const category = required('ChargeCategory');
  return {
    provider: focusProvider(required('ProviderName')),
    account_id: get('SubAccountId') ?? required('BillingAccountId'),
    parent_account_id: required('BillingAccountId'),
    start_ms: start,
    end_ms: end,
    row_key: rowKey([
      category,
      get('ChargeClass'),
      get('ServiceName'),
      get('SkuId'),
      get('SkuPriceId'),
      get('SkuMeter'),
      get('ResourceId'),
      get('CommitmentDiscountId'),
      model,
      tokenType,
      tier,
      get('ChargeDescription'),
    ]),
    model,
    bucket,
    service_tier: tier,
    batch: tier === null ? null : tier === 'batch',
    quantity,
    amount_nano: amount,
    currency: 'USD',
    charge_category: category,
    description: get('ChargeDescription'),
    position: at,
  };
}

/** PricingQuantity in blocks ("1.2" of "1000000 Tokens") -> tokens, exactly (a power-of-ten block is an exponent). */
function blocksToTokens(value: string, block: string): bigint {
  if (!/^10*$/.test(block)) throw invalidInput('PricingUnit', `a block of ${block} tokens is not a power of ten`);
  return wholeCount(`${value}e${block.length - 1}`, 'PricingQuantity');
}

/** SkuPriceDetails: a JSON object; only its string x_ keys are read. */
function skuDetails(text: string | null, at: string): Record<string, string | undefined> {
  if (text === null) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidInput(at, 'SkuPriceDetails is not a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalidInput(at, 'SkuPriceDetails is not a JSON object');
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
  return out;
}
