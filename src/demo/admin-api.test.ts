import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAnthropicCost } from '../attribution/billing/anthropic-cost.js';
import { parseAnthropicUsage } from '../attribution/billing/anthropic-usage.js';
import { parseOpenaiCosts } from '../attribution/billing/openai-costs.js';
import { parseOpenaiUsage } from '../attribution/billing/openai-usage.js';
import { createPriceBook } from '../pricing/index.js';
import { DAY_MS } from './billing-ledger.js';
import { DEMO_PROJECT_ID, startDemoUpstream, type DemoUpstream } from './index.js';
import { postJson } from './testing/client.js';

/** The Admin API reports what the demo really served, priced exactly, paged by day buckets. */

let up: DemoUpstream;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const todayS = today / 1000;
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const served = { openai: { input: 0, cached: 0, output: 0 }, anthropic: { input: 0, output: 0 } };

beforeAll(async () => {
  up = await startDemoUpstream({ seed: 7, ttftMs: 0, itlMs: 0, adminKey: 'sk-admin' });
  for (const content of ['one', 'two words', 'three more words']) {
    const res = await postJson(`${up.url}/v1/chat/completions`, {
      model: 'gpt-4o',
      messages: [{ role: 'user', content }],
    });
    const usage = (res.json as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    served.openai.input += usage.prompt_tokens;
    served.openai.output += usage.completion_tokens;
    const msg = await postJson(
      `${up.url}/v1/messages`,
      { model: 'claude-sonnet-4-0', max_tokens: 100, messages: [{ role: 'user', content }] },
      { 'anthropic-version': '2023-06-01', 'x-api-key': 'k' },
    );
    const u = (msg.json as { usage: { input_tokens: number; output_tokens: number } }).usage;
    served.anthropic.input += u.input_tokens;
    served.anthropic.output += u.output_tokens;
  }
});
afterAll(() => up.close());

const get = async (
  path: string,
  headers: Record<string, string> = { authorization: 'Bearer sk-admin' },
): Promise<{ status: number; text: string; json: Record<string, unknown> }> => {
  const res = await request(`${up.url}${path}`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: JSON.parse(text) as Record<string, unknown> };
};

describe('demo Admin API', () => {
  it('reports OpenAI completions usage per day, model and project, matching what was served', async () => {
    const res = await get(
      `/v1/organization/usage/completions?start_time=${todayS}&end_time=${todayS + 86400}&group_by=model&group_by=project_id`,
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ object: 'page', has_more: false, next_page: null });
    const [bucket] = res.json.data as { start_time: number; end_time: number; results: Record<string, unknown>[] }[];
    expect(bucket).toMatchObject({ start_time: todayS, end_time: todayS + 86400 });
    expect(bucket?.results).toEqual([
      expect.objectContaining({
        object: 'organization.usage.completions.result',
        model: 'gpt-4o-2024-08-06',
        project_id: DEMO_PROJECT_ID,
        input_tokens: served.openai.input,
        input_cached_tokens: 0,
        output_tokens: served.openai.output,
        num_model_requests: 3,
      }),
    ]);
    expect(parseOpenaiUsage(res.text, 'usage.json').rejected).toEqual([]);
  });

  it('prices OpenAI costs exactly from the price book, dollars as JSON number digits', async () => {
    const res = await get(
      `/v1/organization/costs?start_time=${todayS}&end_time=${todayS + 86400}&group_by=line_item&group_by=project_id`,
    );
    const book = createPriceBook();
    const price = (bucket: 'input' | 'output', n: number): bigint =>
      book.price({ provider: 'openai', model: 'gpt-4o-2024-08-06', at: new Date(today), buckets: { [bucket]: n } })
        .cost_nano ?? -1n;
    const parsed = parseOpenaiCosts(res.text, 'costs.json');
    expect(parsed.rejected).toEqual([]);
    expect(parsed.lines.map((l) => [l.description, l.quantity, l.amount_nano])).toEqual([
      ['gpt-4o-2024-08-06, input', BigInt(served.openai.input), price('input', served.openai.input)],
      ['gpt-4o-2024-08-06, output', BigInt(served.openai.output), price('output', served.openai.output)],
    ]);
    // The amount is a JSON number, never a string.
    expect(res.text).toMatch(/"amount":\{"value":0\.\d+,"currency":"usd"\}/);
  });

  it('reports Anthropic usage and cents-string costs', async () => {
    const window = `starting_at=${iso(today)}&ending_at=${iso(today + DAY_MS)}`;
    const usage = await get(`/v1/organizations/usage_report/messages?${window}&group_by[]=model`, {
      'x-api-key': 'sk-admin',
    });
    expect((usage.json.data as { results: unknown[] }[])[0]?.results).toEqual([
      expect.objectContaining({
        model: 'claude-sonnet-4-20250514',
        uncached_input_tokens: served.anthropic.input,
        output_tokens: served.anthropic.output,
        workspace_id: null,
      }),
    ]);
    expect(parseAnthropicUsage(usage.text, 'u.json').rejected).toEqual([]);
    const cost = await get(`/v1/organizations/cost_report?${window}&group_by[]=description`, {
      'x-api-key': 'sk-admin',
    });
    const parsed = parseAnthropicCost(cost.text, 'c.json');
    expect(parsed.rejected).toEqual([]);
    const book = createPriceBook();
    const output =
      book.price({
        provider: 'anthropic',
        model: 'claude-sonnet-4-20250514',
        at: new Date(today),
        buckets: { output: served.anthropic.output },
      }).cost_nano ?? -1n;
    expect(parsed.lines.find((l) => l.bucket === 'output')?.amount_nano).toBe(output);
    expect(cost.text).toMatch(/"amount":"\d+(\.\d+)?"/);
  });

  it('pages by `limit` buckets, empty days included, through an opaque cursor', async () => {
    const start = todayS - 4 * 86400;
    const seen: number[] = [];
    let page: string | null = null;
    let pages = 0;
    do {
      const res = await get(
        `/v1/organization/usage/completions?start_time=${start}&end_time=${todayS + 86400}&limit=2${page ? `&page=${page}` : ''}`,
      );
      const json = res.json as {
        data: { start_time: number; results: unknown[] }[];
        has_more: boolean;
        next_page: string | null;
      };
      seen.push(...json.data.map((b) => b.start_time));
      page = json.has_more ? json.next_page : null;
      pages += 1;
    } while (page !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => start + i * 86400));
  });

  it('refuses a missing or wrong admin key and bad parameters in the provider shape', async () => {
    const q = `/v1/organization/costs?start_time=${todayS}`;
    expect((await get(q, {})).status).toBe(401);
    expect((await get(q, { authorization: 'Bearer nope' })).status).toBe(401);
    const anthropic = await get(`/v1/organizations/cost_report?starting_at=${iso(today)}`, {
      'x-api-key': 'nope',
      'anthropic-version': '2023-06-01',
    });
    expect(anthropic).toMatchObject({ status: 401, json: { type: 'error', error: { type: 'authentication_error' } } });
    expect((await get(`/v1/organization/costs?start_time=${todayS}&limit=500`)).status).toBe(400);
    expect((await get(`/v1/organization/costs?start_time=${todayS}&page=page_bogus`)).status).toBe(400);
    expect((await get('/v1/organization/costs')).status).toBe(400);
  });
});
