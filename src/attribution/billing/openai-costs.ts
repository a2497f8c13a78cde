/**
 * OpenAI `GET /v1/organization/costs` pages (billing-formats §3.2): dollars from the raw JSON
 * digits (trap T5), one row per result. The `line_item` grammar is undocumented: labels shaped
 * like the ones seen in real exports ("gpt-4o-2024-08-06, cached input", "…, output (batch)") are
 * read into model, token bucket and batch flag through the table below; any other label is kept
 * verbatim as a cost-only line (bucket null), never refused, since new products add labels.
 */
import { invalidInput } from '../../errors.js';
import { usdToNano } from '../../money.js';
import type { Bucket } from '../../usage/index.js';
import { parseJsonText } from './json-text.js';
import {
  array,
  count,
  guarded,
  numberText,
  object,
  optString,
  pages,
  reqString,
  rowKey,
  unixSeconds,
  checkBucket,
  type BillingLine,
  type ParsedFile,
  type Rejection,
} from './rows.js';

/** The account of lines not grouped by project: the whole organisation. */
export const ORGANIZATION_ACCOUNT = 'organization';

/** Label component -> canonical bucket (labels are illustrative; extend as OpenAI adds them). */
export const COMPONENTS: Readonly<Record<string, Bucket>> = {
  input: 'input',
  'cached input': 'cache_read',
  output: 'output',
  'audio input': 'input_audio',
  'cached audio input': 'cache_read',
  'audio output': 'output_audio',
  'image input': 'input_image',
  'image output': 'output_image',
};

const LABEL = /^(.+), ([a-z ]+?)( \(batch\))?$/;

/** Model, bucket and batch flag of a line-item label, or nulls when the label is not in the table. */
export function readLineItem(label: string | null): {
  model: string | null;
  bucket: Bucket | null;
  batch: boolean | null;
} {
  const m = label === null ? null : LABEL.exec(label);
  const bucket = m ? COMPONENTS[m[2] ?? ''] : undefined;
  if (!m || bucket === undefined) return { model: null, bucket: null, batch: null };
  return { model: m[1] ?? null, bucket, batch: m[3] !== undefined };
}

/** The OpenAI page envelope: `{object:"page", data:[{object:"bucket", start_time, end_time, results}]}`. */
export function openaiBuckets(
  text: string,
  file: string,
  rejected: Rejection[],
  each: (result: ReturnType<typeof object>, path: string, start: number, end: number) => void,
): void {
  guarded(file, rejected, () => {
    for (const { page, path } of pages(parseJsonText(text, '$'))) {
      if (page.object !== 'page') throw invalidInput(`${path}.object`, 'not an OpenAI page (object must be "page")');
      array(page.data, `${path}.data`).forEach((b, i) => {
        const at = `${path}.data[${i}]`;
        guarded(file, rejected, () => {
          const bucket = object(b, at);
          const start = unixSeconds(bucket, 'start_time', at);
          const end = unixSeconds(bucket, 'end_time', at);
          checkBucket(start, end, `${at}.end_time`);
          array(bucket.results, `${at}.results`).forEach((r, j) => {
            const rat = `${at}.results[${j}]`;
            guarded(file, rejected, () => each(object(r, rat), rat, start, end));
          });
        });
      });
    }
  });
}

export function parseOpenaiCosts(text: string, file: string): ParsedFile {
  const lines: BillingLine[] = [];
  const rejected: Rejection[] = [];
  openaiBuckets(text, file, rejected, (r, at, start, end) => {
    if (r.object !== 'organization.costs.result')
      throw invalidInput(`${at}.object`, `not a costs result: ${JSON.stringify(r.object ?? null)}`);
    const amount = object(r.amount, `${at}.amount`);
    const currency = reqString(amount, 'currency', `${at}.amount`);
    if (currency.toLowerCase() !== 'usd')
      throw invalidInput(`${at}.amount.currency`, `only USD bills are imported, got "${currency}"`);
    // Amounts are sometimes rendered with 16 decimals: rounded half-even to the nano-USD.
    const amountNano = usdToNano(numberText(amount, 'value', `${at}.amount`), `${at}.amount.value`, {
      excess: 'half-even',
    });
    const label = optString(r, 'line_item', at);
    const unit = optString(r, 'quantity_unit', at);
    const scale = unit === 'tokens' ? 1n : unit === '1000_tokens' ? 1000n : null;
    const quantity =
      scale === null || r.quantity === undefined || r.quantity === null ? null : count(r, 'quantity', at) * scale;
    const { model, bucket, batch } = readLineItem(label);
    const apiKey = optString(r, 'api_key_id', at);
    lines.push({
      provider: 'openai',
      account_id: optString(r, 'project_id', at) ?? ORGANIZATION_ACCOUNT,
      start_ms: start,
      end_ms: end,
      row_key: rowKey([label, apiKey]),
      model,
      bucket,
      service_tier: batch ? 'batch' : null,
      batch,
      quantity: bucket === null ? null : quantity,
      amount_nano: amountNano,
      currency: 'USD',
      charge_category: 'Usage',
      description: label,
      position: at,
    });
  });
  return { lines, rejected };
}
