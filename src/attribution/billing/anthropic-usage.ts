/**
 * Anthropic `GET /v1/organizations/usage_report/messages` pages (billing-formats §4.1): tokens
 * only, exclusive like the Messages API (uncached + cache read + cache writes = total input).
 * Cache writes come from the nested `cache_creation` object; the report has no flat
 * `cache_creation_input_tokens`, and reading that key would price every write at zero.
 */
import { DEFAULT_WORKSPACE_ID } from '../../config/index.js';
import type { Bucket } from '../../usage/index.js';
import { anthropicBuckets } from './anthropic-cost.js';
import { isObject } from './json-text.js';
import { count, object, optString, rowKey, type BillingLine, type ParsedFile, type Rejection } from './rows.js';

/** Grouping dimensions that tell two results of one bucket apart (null unless grouped by). */
const DIMENSIONS = [
  'model',
  'service_tier',
  'context_window',
  'inference_geo',
  'api_key_id',
  'account_id',
  'service_account_id',
  'speed',
] as const;

export function parseAnthropicUsage(text: string, file: string): ParsedFile {
  const lines: BillingLine[] = [];
  const rejected: Rejection[] = [];
  anthropicBuckets(text, file, rejected, (r, at, start, end) => {
    const creation = object(r.cache_creation ?? {}, `${at}.cache_creation`);
    const tools = isObject(r.server_tool_use) ? r.server_tool_use : {};
    const buckets: [Bucket, bigint][] = [
      ['input', count(r, 'uncached_input_tokens', at)],
      ['cache_read', count(r, 'cache_read_input_tokens', at, 0n)],
      ['cache_write_5m', count(creation, 'ephemeral_5m_input_tokens', `${at}.cache_creation`, 0n)],
      ['cache_write_1h', count(creation, 'ephemeral_1h_input_tokens', `${at}.cache_creation`, 0n)],
      ['output', count(r, 'output_tokens', at)],
      ['web_search', count(tools, 'web_search_requests', `${at}.server_tool_use`, 0n)],
    ];
    const dims = DIMENSIONS.map((d) => optString(r, d, at));
    const tier = optString(r, 'service_tier', at);
    for (const [bucket, quantity] of buckets) {
      if (quantity === 0n) continue;
      lines.push({
        provider: 'anthropic',
        account_id: optString(r, 'workspace_id', at) ?? DEFAULT_WORKSPACE_ID,
        start_ms: start,
        end_ms: end,
        row_key: rowKey([...dims, bucket]),
        model: optString(r, 'model', at),
        bucket,
        service_tier: tier,
        batch: tier === null ? null : tier === 'batch',
        quantity,
        amount_nano: null,
        currency: null,
        charge_category: 'Usage',
        description: null,
        position: at,
      });
    }
  });
  return { lines, rejected };
}
