/**
 * Anthropic `GET /v1/organizations/cost_report` pages (billing-formats §4.2): amounts are decimal
 * strings in cents (trap T4: "123.45" is $1.2345), read exactly; the default workspace is null
 * (trap T7) and becomes DEFAULT_WORKSPACE_ID. The structured fields (cost_type, token_type, model,
 * service_tier) give the bucket, never `description`. An unknown `token_type` on a token cost is a
 * malformed row (it would be priced as the wrong class); an unknown `cost_type` is kept as a
 * cost-only line, since Anthropic adds products (code execution, agent sessions).
 */
import { DEFAULT_WORKSPACE_ID } from '../../config/index.js';
import { invalidInput } from '../../errors.js';
import { centsToNano } from '../../money.js';
import type { Bucket } from '../../usage/index.js';
import { parseJsonText, type JsonObject } from './json-text.js';
import {
  array,
  checkBucket,
  guarded,
  instant,
  object,
  optString,
  pages,
  reqString,
  rowKey,
  type BillingLine,
  type ParsedFile,
  type Rejection,
} from './rows.js';

/** Anthropic token classes -> canonical buckets (the same names key the usage report). */
export const TOKEN_TYPES: Readonly<Record<string, Bucket>> = {
  uncached_input_tokens: 'input',
  cache_read_input_tokens: 'cache_read',
  'cache_creation.ephemeral_5m_input_tokens': 'cache_write_5m',
  'cache_creation.ephemeral_1h_input_tokens': 'cache_write_1h',
  output_tokens: 'output',
};

/** The Anthropic report envelope: `{data:[{starting_at, ending_at, results}], has_more, next_page}`. */
export function anthropicBuckets(
  text: string,
  file: string,
  rejected: Rejection[],
  each: (result: JsonObject, path: string, start: number, end: number) => void,
): void {
  guarded(file, rejected, () => {
    for (const { page, path } of pages(parseJsonText(text, '$'))) {
      array(page.data, `${path}.data`).forEach((b, i) => {
        const at = `${path}.data[${i}]`;
        guarded(file, rejected, () => {
          const bucket = object(b, at);
          const start = instant(optString(bucket, 'starting_at', at), `${at}.starting_at`);
          const end = instant(optString(bucket, 'ending_at', at), `${at}.ending_at`);
          checkBucket(start, end, `${at}.ending_at`);
          array(bucket.results, `${at}.results`).forEach((r, j) => {
            const rat = `${at}.results[${j}]`;
            guarded(file, rejected, () => each(object(r, rat), rat, start, end));
          });
        });
      });
    }
  });
}

export function parseAnthropicCost(text: string, file: string): ParsedFile {
  const lines: BillingLine[] = [];
  const rejected: Rejection[] = [];
  anthropicBuckets(text, file, rejected, (r, at, start, end) => {
    const currency = reqString(r, 'currency', at);
    if (currency !== 'USD') throw invalidInput(`${at}.currency`, `only USD bills are imported, got "${currency}"`);
    if (typeof r.amount !== 'string')
      throw invalidInput(`${at}.amount`, 'expected a decimal string of cents (e.g. "123.45")');
    // Sub-cent digits beyond the nano-USD are rounded half-even (the docs show "123.78912").
    const amountNano = centsToNano(r.amount, `${at}.amount`, { excess: 'half-even' });
    const costType = optString(r, 'cost_type', at);
    const tokenType = optString(r, 'token_type', at);
    let bucket: Bucket | null = null;
    if (costType === 'tokens') {
      bucket = TOKEN_TYPES[tokenType ?? ''] ?? null;
      if (bucket === null) throw invalidInput(`${at}.token_type`, `unknown token_type ${JSON.stringify(tokenType)}`);
    } else if (costType === 'web_search') bucket = 'web_search';
    const model = optString(r, 'model', at);
    const tier = optString(r, 'service_tier', at);
    const description = optString(r, 'description', at);
    const context = optString(r, 'context_window', at);
    const geo = optString(r, 'inference_geo', at);
    lines.push({
      provider: 'anthropic',
      account_id: optString(r, 'workspace_id', at) ?? DEFAULT_WORKSPACE_ID,
      start_ms: start,
      end_ms: end,
      row_key: rowKey([description, costType, tokenType, model, tier, context, geo]),
      model,
      bucket,
      service_tier: tier,
      batch: tier === null ? null : tier === 'batch',
      quantity: null,
      amount_nano: amountNano,
      currency: 'USD',
      charge_category: 'Usage',
      description,
      position: at,
    });
  });
  return { lines, rejected };
}
