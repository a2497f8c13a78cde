import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PertokenError } from '../../errors.js';
import { createSqliteStore } from '../../ledger/index.js';
import { countLikeArb, fuzzParameters, fuzzTimeout, mutantOf } from '../../testing/fuzz.js';
import { csvRecords } from './csv.js';
import { importBilling, parseSource, textSource, type BillingFormat, type ParsedFile } from './index.js';
import { fixtureText } from './testing/fixtures.js';

/**
 * Provider bill files under fire, per format: the reference fixtures with values replaced (any
 * type, odd numbers and dates, missing fields), cut or spliced, and random text. Parsing gives
 * lines and per-row rejections naming the row (JSON path or CSV line), or a PertokenError naming
 * where — never another exception. A file without rejections imports exactly: its amounts land in
 * the ledger to the nano-USD, and importing it again changes nothing.
 */

const RUNS = 60;
const LEDGER_RUNS = 25;
/** Each case opens a ledger: a big run takes a quarter of PERTOKEN_FUZZ_RUNS of them. */
const LEDGER_SHARE = { bigShare: 0.25 };

const FIXTURES: Record<BillingFormat, string> = {
  'openai-costs': 'openai-costs.json',
  'openai-usage': 'openai-usage-completions.json',
  'anthropic-cost': 'anthropic-cost-report.json',
  'anthropic-usage': 'anthropic-usage-report.json',
  focus: 'focus-sample.csv',
};
const FORMATS = Object.keys(FIXTURES) as BillingFormat[];

/** What a provider's export (or a hand edit of it) may put in any field. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: countLikeArb },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '150.00',
      '-1.00',
      '1e400',
      '0.0000000001',
      '12.345',
      '',
      'USD',
      'EUR',
      '2026-08-01T00:00:00Z',
      '2026-08-02T00:00:00+02:00',
      '2026-13-01T00:00:00Z',
      'not a date',
      1785542400,
      1785628800,
      -1,
      1e300,
      null,
      [],
      {},
    ),
  },
);

/** A CSV cell value: the fixture's own kind of content, and breakage. */
const cellArb: fc.Arbitrary<string | null> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    null,
    '',
    '-1',
    '1e400',
    '0.1',
    '3.0',
    'abc',
    '2026-08-01T00:00:00Z',
    '2026-08-01',
    'USD',
    'EUR',
    '"',
    'a,b',
    'a\nb',
  ),
  countLikeArb.map(String),
);

const quote = (cell: string | null): string => (cell === null ? '' : `"${cell.replace(/"/g, '""')}"`);

async function records(text: string): Promise<Array<Array<string | null>>> {
  const out: Array<Array<string | null>> = [];
  for await (const record of csvRecords(
    (async function* () {
      yield text;
    })(),
  ))
    out.push(record.fields);
  return out;
}

const focusRows = await records(fixtureText(FIXTURES.focus));

/** The FOCUS fixture with cells replaced, columns renamed or rows dropped, written back as CSV. */
const focusMutantArb: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.record({
        kind: fc.constant('cell' as const),
        row: fc.nat({ max: focusRows.length - 1 }),
        col: fc.nat({ max: (focusRows[0]?.length ?? 1) - 1 }),
        value: cellArb,
      }),
      fc.record({ kind: fc.constant('drop' as const), row: fc.nat({ max: focusRows.length - 1 }) }),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((edits) => {
    const rows = focusRows.map((r) => [...r]);
    for (const e of edits) {
      const row = rows[e.row];
      if (row === undefined) continue; // dropped by an earlier edit
      if (e.kind === 'cell') row[e.col] = e.value;
      else rows.splice(e.row, 1);
    }
    return rows.map((r) => r.map(quote).join(',')).join('\r\n');
  });

/** Text of a file of `format`: a mutant of its fixture, the fixture cut or spliced, or noise. */
function fileArb(format: BillingFormat): fc.Arbitrary<string> {
  const fixture = fixtureText(FIXTURES[format]);
  const structured =
    format === 'focus'
      ? focusMutantArb
      : mutantOf(JSON.parse(fixture) as unknown, valueArb, 3).map((doc) => JSON.stringify(doc) ?? '');
  return fc.oneof(
    { weight: 6, arbitrary: structured },
    { weight: 1, arbitrary: fc.constant(fixture) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.nat({ max: fixture.length }), fc.nat({ max: 30 }), fc.string({ maxLength: 8 }))
        .map(([at, cut, insert]) => fixture.slice(0, at) + insert + fixture.slice(at + cut)),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  );
}

/** A parsed result's every line is storable and every rejection says where. */
function expectWellFormed(parsed: ParsedFile): void {
  for (const r of parsed.rejected) {
    expect(r.at, r.reason).toMatch(/^(\$|line \d+|file|column )|\S/);
    expect(r.reason.length).toBeGreaterThan(0);
  }
  for (const line of parsed.lines) {
    expect(Number.isSafeInteger(line.start_ms) && Number.isSafeInteger(line.end_ms)).toBe(true);
    expect(line.end_ms).toBeGreaterThan(line.start_ms);
    expect(line.amount_nano === null || typeof line.amount_nano === 'bigint').toBe(true);
    expect(line.quantity === null || (typeof line.quantity === 'bigint' && line.quantity >= 0n)).toBe(true);
  }
}

async function parseOrRefuse(format: BillingFormat, text: string): Promise<ParsedFile | null> {
  try {
    const parsed = await parseSource(format, textSource('bill', text));
    expectWellFormed(parsed);
    return parsed;
  } catch (err) {
    // A refusal of the whole file must be ours and say where.
    if (!(err instanceof PertokenError)) throw err;
    expect(err.param ?? '', err.message).not.toBe('');
    return null;
  }
}

const ALL_TIME = { from: new Date(-8.64e15), to: new Date(8.64e15) };

describe.each(FORMATS)('%s bill files', (format) => {
  it(
    'parse into lines and rejections that say where, or a PertokenError; never another exception',
    async () => {
      await fc.assert(
        fc.asyncProperty(fileArb(format), async (text) => {
          await parseOrRefuse(format, text);
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 50),
  );

  it(
    'an accepted file lands in the ledger to the nano-USD, and a re-import changes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(fileArb(format), async (text) => {
          const parsed = await parseOrRefuse(format, text);
          fc.pre(parsed !== null && parsed.rejected.length === 0 && parsed.lines.length > 0);
          const store = createSqliteStore({ path: ':memory:' });
          try {
            await store.migrate();
            const run = () => importBilling({ store, accounts: [], format, sources: [textSource('bill', text)] });
            const first = await run();
            expect(first.rejected).toEqual([]);
            expect(first).toMatchObject({
              rows: parsed?.lines.length,
              imported: first.rows,
              replaced: 0,
              duplicates: 0,
            });
            const stored = await store.queryBillingRows(ALL_TIME);
            const sum = (xs: ReadonlyArray<{ amount_nano: bigint | null }>): bigint =>
              xs.reduce((n, x) => n + (x.amount_nano ?? 0n), 0n);
            expect(stored).toHaveLength(first.rows);
            expect(sum(stored)).toBe(sum(parsed?.lines ?? []));

            const again = await run();
            expect(again).toMatchObject({ imported: 0, replaced: 0, duplicates: first.rows });
            expect(await store.queryBillingRows(ALL_TIME)).toEqual(stored);
          } finally {
            await store.close();
          }
        }),
        { ...fuzzParameters(LEDGER_RUNS, LEDGER_SHARE), maxSkipsPerRun: 1000 },
      );
    },
    fuzzTimeout(LEDGER_RUNS, 200, LEDGER_SHARE),
  );
});
