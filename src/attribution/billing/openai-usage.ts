/**
 * OpenAI `GET /v1/organization/usage/completions` pages (billing-formats §3.1): tokens only, one
 * row per non-zero canonical bucket. Input is inclusive on OpenAI (traps T1/T2): the uncached
 * input is `input_uncached_tokens` when present, else `input_tokens − input_cached_tokens −
 * input_cache_write_tokens`. Only with `input_uncached_tokens` (the 2026-07 spec) do the
 * per-modality fields mean "uncached", so only then is audio and image input split off; older
 * files keep all uncached input in `input` and never add `input_audio_tokens` on top.
 */
import { invalidInput } from '../../errors.js';
import type { Bucket } from '../../usage/index.js';
import { openaiBuckets, ORGANIZATION_ACCOUNT } from './openai-costs.js';
import { count, optBoolean, optString, rowKey, type BillingLine, type ParsedFile, type Rejection } from './rows.js';

export function parseOpenaiUsage(text: string, file: string): ParsedFile {
  const lines: BillingLine[] = [];
  const rejected: Rejection[] = [];
  openaiBuckets(text, file, rejected, (r, at, start, end) => {
    if (r.object !== 'organization.usage.completions.result')
      throw invalidInput(`${at}.object`, `not a completions usage result: ${JSON.stringify(r.object ?? null)}`);
    const total = count(r, 'input_tokens', at);
    const cached = count(r, 'input_cached_tokens', at, 0n);
    const cacheWrite = count(r, 'input_cache_write_tokens', at, 0n);
    const modern = r.input_uncached_tokens !== undefined && r.input_uncached_tokens !== null;
    const uncached = modern ? count(r, 'input_uncached_tokens', at) : total - cached - cacheWrite;
    if (uncached < 0n || uncached + cached + cacheWrite !== total)
      throw invalidInput(
        `${at}.input_tokens`,
        `input_tokens (${total}) is not uncached (${uncached}) + cached (${cached}) + cache write (${cacheWrite})`,
      );
    const audioIn = modern ? count(r, 'input_audio_tokens', at, 0n) : 0n;
    const imageIn = modern ? count(r, 'input_image_tokens', at, 0n) : 0n;
    const output = count(r, 'output_tokens', at);
    const audioOut = count(r, 'output_audio_tokens', at, 0n);
    const imageOut = count(r, 'output_image_tokens', at, 0n);
    if (audioIn + imageIn > uncached)
      throw invalidInput(`${at}.input_audio_tokens`, 'audio + image input exceed the uncached input');
    if (audioOut + imageOut > output)
      throw invalidInput(`${at}.output_audio_tokens`, 'audio + image output exceed output_tokens');
    // OpenAI writes to its cache without a TTL choice; the 5-minute bucket is the base write rate.
    const buckets: [Bucket, bigint][] = [
      ['input', uncached - audioIn - imageIn],
      ['input_audio', audioIn],
      ['input_image', imageIn],
      ['cache_read', cached],
      ['cache_write_5m', cacheWrite],
      ['output', output - audioOut - imageOut],
      ['output_audio', audioOut],
      ['output_image', imageOut],
      ['requests', count(r, 'num_model_requests', at, 0n)],
    ];
    const model = optString(r, 'model', at);
    const batch = optBoolean(r, 'batch', at);
    const tier = optString(r, 'service_tier', at) ?? (batch ? 'batch' : null);
    const dims = [model, batch, tier, optString(r, 'user_id', at), optString(r, 'api_key_id', at)];
    for (const [bucket, quantity] of buckets) {
      if (quantity === 0n) continue;
      lines.push({
        provider: 'openai',
        account_id: optString(r, 'project_id', at) ?? ORGANIZATION_ACCOUNT,
        start_ms: start,
        end_ms: end,
        row_key: rowKey([...dims, bucket]),
        model,
        bucket,
        service_tier: tier,
        batch,
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
