import { describe, expect, it } from 'vitest';
import { formatUsd } from '../../money.js';
import { parseBillingFormat, parseSource, textSource, type BillingFormat, type ParsedFile } from './index.js';
import { parseJsonText, JsonNumber } from './json-text.js';
import { DAY1, DAY2, fixtureText } from './testing/fixtures.js';

const parse = (format: BillingFormat, name: string, text = fixtureText(name)): Promise<ParsedFile> =>
  parseSource(format, textSource(name, text));

const sum = (values: ReadonlyArray<bigint | null>): bigint => values.reduce<bigint>((a, v) => a + (v ?? 0n), 0n);
const usdOf = (file: ParsedFile, day?: number): string =>
  formatUsd(sum(file.lines.filter((l) => day === undefined || l.start_ms === day).map((l) => l.amount_nano)));
const tokens = (file: ParsedFile, filter: (l: ParsedFile['lines'][number]) => boolean): bigint =>
  sum(file.lines.filter(filter).map((l) => l.quantity));

describe('raw JSON numbers (trap T5)', () => {
  it('keeps the literal digits of every number and refuses bad JSON with a position', () => {
    const v = parseJsonText('{"a": [7.255, -1e-7, 0.1], "s": "x\\n\\u00e9"}', '$');
    expect(v).toEqual({ a: [new JsonNumber('7.255'), new JsonNumber('-1e-7'), new JsonNumber('0.1')], s: 'x\né' });
    expect(() => parseJsonText('{"a": 01}', '$')).toThrow(/line 1, column 8/);
    expect(() => parseJsonText('{"a": 1,}', '$')).toThrow(/property name/);
  });
});

describe('openai-costs', () => {
  it('gives the README totals exactly: day 1 9.70, day 2 7.255 (not 7.255000000000001)', async () => {
    const file = await parse('openai-costs', 'openai-costs.json');
    expect(file.rejected).toEqual([]);
    expect(usdOf(file, DAY1)).toBe('9.700000000');
    expect(usdOf(file, DAY2)).toBe('7.255000000');
    const first = file.lines[0]!;
    expect(first).toMatchObject({
      provider: 'openai',
      account_id: 'proj_FixtureChat0000000000',
      end_ms: DAY2,
      model: 'gpt-4o-2024-08-06',
      bucket: 'input',
      quantity: 1_200_000n,
      currency: 'USD',
      description: 'gpt-4o-2024-08-06, input',
      position: '$.data[0].results[0]',
    });
    const batch = file.lines.find((l) => l.description === 'gpt-4o-mini-2024-07-18, input (batch)');
    expect(batch).toMatchObject({ batch: true, bucket: 'input', model: 'gpt-4o-mini-2024-07-18' });
  });

  it('keeps an unknown line-item label verbatim as a cost-only line', async () => {
    const text = fixtureText('openai-costs.json').replace('"gpt-4o-2024-08-06, input"', '"Image models"');
    const file = await parse('openai-costs', 'x.json', text);
    expect(file.rejected).toEqual([]);
    expect(file.lines[0]).toMatchObject({ bucket: null, model: null, quantity: null, description: 'Image models' });
  });
});

describe('openai-usage', () => {
  it('splits inclusive input into exclusive buckets matching the cost line quantities (T1/T2)', async () => {
    const usage = await parse('openai-usage', 'openai-usage-completions.json');
    const costs = await parse('openai-costs', 'openai-costs.json');
    expect(usage.rejected).toEqual([]);
    for (const bucket of ['input', 'cache_read', 'output'] as const)
      expect(tokens(usage, (l) => l.bucket === bucket)).toBe(tokens(costs, (l) => l.bucket === bucket));
    expect(usage.lines.every((l) => l.amount_nano === null)).toBe(true);
    expect(usage.lines.find((l) => l.bucket === 'input')).toMatchObject({ quantity: 1_200_000n, batch: false });
  });

  it('without input_uncached_tokens (older spec) derives input_tokens − cached − cache write', async () => {
    const text = JSON.stringify({
      object: 'page',
      data: [
        {
          object: 'bucket',
          start_time: 1785542400,
          end_time: 1785628800,
          results: [
            {
              object: 'organization.usage.completions.result',
              input_tokens: 1000,
              input_cached_tokens: 300,
              input_audio_tokens: 50,
              output_tokens: 10,
              num_model_requests: 2,
            },
          ],
        },
      ],
      has_more: false,
      next_page: null,
    });
    const file = await parse('openai-usage', 'old.json', text);
    expect(file.lines.map((l) => [l.bucket, l.quantity])).toEqual([
      ['input', 700n],
      ['cache_read', 300n],
      ['output', 10n],
      ['requests', 2n],
    ]);
    expect(file.lines[0]!.account_id).toBe('organization');
  });
});

describe('anthropic-cost', () => {
  it('reads cents strings exactly (T4): day 1 $13.20, day 2 $6.71500984; null workspace is wrkspc_default (T7)', async () => {
    const file = await parse('anthropic-cost', 'anthropic-cost-report.json');
    expect(file.rejected).toEqual([]);
    expect(usdOf(file, DAY1)).toBe('13.200000000');
    expect(usdOf(file, DAY2)).toBe('6.715009840');
    expect(new Set(file.lines.map((l) => l.account_id))).toEqual(
      new Set(['wrkspc_01FixtureResearch00000', 'wrkspc_default']),
    );
    expect(file.lines.filter((l) => l.bucket === 'web_search')).toHaveLength(2);
    expect(file.lines.filter((l) => l.service_tier === 'priority')).toEqual([]);
  });
});

describe('anthropic-usage', () => {
  it('counts total input as uncached + cache read + both cache writes, and keeps the priority row', async () => {
    const file = await parse('anthropic-usage', 'anthropic-usage-report.json');
    expect(file.rejected).toEqual([]);
    const sonnet = (l: ParsedFile['lines'][number]): boolean =>
      l.start_ms === DAY1 && l.model === 'claude-sonnet-4-20250514' && l.service_tier === 'standard';
    expect(
      tokens(file, (l) => sonnet(l) && ['input', 'cache_read', 'cache_write_5m', 'cache_write_1h'].includes(l.bucket!)),
    ).toBe(2_800_000n);
    expect(tokens(file, (l) => sonnet(l) && l.bucket === 'web_search')).toBe(40n);
    const priority = file.lines.filter((l) => l.service_tier === 'priority');
    expect(priority.map((l) => [l.bucket, l.quantity])).toEqual([
      ['input', 100_000n],
      ['output', 10_000n],
    ]);
  });
});

describe('focus', () => {
  it('imports all 28 rows with the README totals, token rows by unit', async () => {
    const file = await parse('focus', 'focus-sample.csv');
    expect(file.rejected).toEqual([]);
    expect(file.lines).toHaveLength(28);
    expect(usdOf(file)).toBe('958.790000000');
    const of = (provider: string, usage = false): string =>
      formatUsd(
        sum(
          file.lines
            .filter((l) => l.provider === provider && (!usage || l.charge_category === 'Usage'))
            .map((l) => l.amount_nano),
        ),
      );
    expect(of('openai', true)).toBe('9.700000000');
    expect(of('anthropic')).toBe('13.200000000');
    expect(of('aws')).toBe('934.920000000');
    expect(file.lines[1]).toMatchObject({ bucket: 'cache_read', quantity: 800_000n, model: 'gpt-4o-2024-08-06' });
    expect(file.lines[8]).toMatchObject({ charge_category: 'Tax', bucket: null, quantity: null });
    expect(file.lines.find((l) => l.bucket === 'web_search')).toMatchObject({ quantity: 40n });
    // Compute hours and storage are not tokens.
    expect(file.lines.filter((l) => l.provider === 'aws' && l.bucket !== null)).toHaveLength(3);
  });

  it('reads RFC 4180 quoting across chunk boundaries', async () => {
    const text = fixtureText('focus-sample.csv');
    const chunked = {
      name: 'c.csv',
      bytes: null,
      chunks: async function* () {
        for (let i = 0; i < text.length; i += 7) yield text.slice(i, i + 7);
      },
    };
    const file = await parseSource('focus', chunked);
    expect(file.lines).toHaveLength(28);
    expect(file.lines[0]!.description).toBe('gpt-4o-2024-08-06 input tokens, standard tier, USD 2.50 per 1M tokens');
  });
});

describe('malformed rows', () => {
  it('reports a bad number, an unknown token type and a missing field with their positions', async () => {
    const costs = fixtureText('openai-costs.json').replace('"value": 3.0', '"value": "3.0"');
    const a = await parse('openai-costs', 'costs.json', costs);
    expect(a.rejected).toEqual([
      { file: 'costs.json', at: '$.data[0].results[0].amount.value', reason: 'expected a number, got "3.0"' },
    ]);
    const cost = fixtureText('anthropic-cost-report.json').replace(
      '"token_type": "output_tokens"',
      '"token_type": "thinking_tokens"',
    );
    const b = await parse('anthropic-cost', 'cost.json', cost);
    expect(b.rejected).toEqual([
      { file: 'cost.json', at: '$.data[0].results[1].token_type', reason: 'unknown token_type "thinking_tokens"' },
    ]);
    const usage = fixtureText('anthropic-usage-report.json').replace('"uncached_input_tokens": 500000,', '');
    const c = await parse('anthropic-usage', 'usage.json', usage);
    expect(c.rejected).toEqual([
      { file: 'usage.json', at: '$.data[0].results[0].uncached_input_tokens', reason: 'missing' },
    ]);
    const focus = fixtureText('focus-sample.csv').replace(',3.0,org-Fixture', ',3.0x,org-Fixture');
    const d = await parse('focus', 'f.csv', focus);
    expect(d.rejected).toEqual([{ file: 'f.csv', at: 'line 2', reason: 'BilledCost: not a decimal: "3.0x"' }]);
    const e = await parse(
      'focus',
      'g.csv',
      fixtureText('focus-sample.csv').replace(',input,standard,', ',prompt,standard,'),
    );
    expect(e.rejected).toEqual([{ file: 'g.csv', at: 'line 2', reason: 'unknown x_TokenType "prompt"' }]);
  });

  it('rejects a line the ledger could not hold, naming its row, instead of crashing the import', async () => {
    // Found by import.fuzz.test.ts: `"value": 1e300` parsed, then the insert threw a RangeError.
    const costs = fixtureText('openai-costs.json').replace('"value": 3.0,', '"value": 1e300,');
    const a = await parse('openai-costs', 'c.json', costs);
    expect(a.rejected).toEqual([
      {
        file: 'c.json',
        at: '$.data[0].results[0]',
        reason: `amount 1${'0'.repeat(300)}.000000000 USD is out of range (at most ±1000000000.000000000 a line)`,
      },
    ]);
    const usage = fixtureText('anthropic-usage-report.json').replace(
      '"uncached_input_tokens": 500000,',
      '"uncached_input_tokens": 1e19,',
    );
    const b = await parse('anthropic-usage', 'u.json', usage);
    expect(b.rejected).toEqual([
      {
        file: 'u.json',
        at: '$.data[0].results[0]',
        reason: 'quantity 10000000000000000000 is out of range (at most 1000000000000000000 a line)',
      },
    ]);
    // Found by import.fuzz.test.ts: an empty workspace_id failed the whole import as `rows[0].account_id`.
    const empty = fixtureText('anthropic-cost-report.json').replace('"workspace_id": null', '"workspace_id": ""');
    const c = await parse('anthropic-cost', 'e.json', empty);
    expect(c.rejected[0]).toEqual({
      file: 'e.json',
      at: '$.data[0].results[8].workspace_id',
      reason: 'workspace_id is empty',
    });
    // A billion dollars on one line is still a line.
    const big = await parse(
      'openai-costs',
      'b.json',
      fixtureText('openai-costs.json').replace('"value": 3.0,', '"value": 1e9,'),
    );
    expect(big.rejected).toEqual([]);
  });

  it('refuses a file that is not a page', async () => {
    const a = await parse('openai-costs', 'x.json', '{"data": []}');
    expect(a.rejected).toEqual([
      { file: 'x.json', at: '$.object', reason: 'not an OpenAI page (object must be "page")' },
    ]);
    const b = await parse('anthropic-cost', 'y.json', '{"data": [');
    expect(b.rejected[0]).toMatchObject({ at: '$' });
  });

  it('names the param of a bad format', () => {
    expect(() => parseBillingFormat('openai-cost', 'format')).toThrow(/must be one of openai-costs/);
    try {
      parseBillingFormat('x', 'format');
    } catch (err) {
      expect(err).toMatchObject({ param: 'format' });
    }
  });
});
