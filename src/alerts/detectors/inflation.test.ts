import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../../ledger/testing/dialects.js';
import { HOUR, context, insertAll, streamEvents, type Stream } from '../testing/seasonal-fixtures.js';
import { tokenInflationDetector } from './inflation.js';

const sqlite = (await ledgerDialects()).find((d) => d.name === 'sqlite');
const FROM = Date.parse('2026-11-16T00:00:00Z');
const CHANGE = Date.parse('2026-11-24T14:00:00Z');
const after = (incident: NonNullable<Stream['incident']>) => (ms: number) => (ms >= CHANGE ? incident(ms) : null);

/** One tenant per case, one feature each (so the tenant itself leads), a week of history. */
const STREAMS: Stream[] = [
  // Tokens per request ×3 on an expensive model: extreme, and ~$2.8/h more.
  {
    tenant: 'extreme',
    project: 'p',
    feature: 'f',
    key: 'k',
    model: 'gpt-4o',
    peak: 40,
    buckets: { input: 8000, output: 1500 },
    seed: 1,
    incident: after(() => ({ tokens: 3 })),
  },
  // Prompts ×2.5 on an answer-heavy feature: tokens per request only ×1.3, input/output ×2.5.
  {
    tenant: 'prompts',
    project: 'p',
    feature: 'f',
    key: 'k',
    model: 'gpt-4o-mini',
    peak: 40,
    buckets: { input: 1000, output: 4000 },
    seed: 2,
    incident: after(() => ({ buckets: { input: 2500, output: 4000 } })),
  },
  // Answers cut to 30%: input/output ×3.3, but fewer tokens per request: not inflation.
  {
    tenant: 'shorter',
    project: 'p',
    feature: 'f',
    key: 'k',
    model: 'gpt-4o-mini',
    peak: 40,
    buckets: { input: 1000, output: 4000 },
    seed: 3,
    incident: after(() => ({ buckets: { input: 1000, output: 1200 } })),
  },
  // Doubled, but 5 requests an hour: below inflation.min_requests (20).
  {
    tenant: 'few',
    project: 'p',
    feature: 'f',
    key: 'k',
    model: 'gpt-4o-mini',
    peak: 5,
    buckets: { input: 1000, output: 100 },
    seed: 4,
    incident: after(() => ({ tokens: 2 })),
  },
];

describe.skipIf(sqlite === undefined)('tokenInflationDetector (sqlite)', () => {
  let target: LedgerTarget;
  let store: LedgerStore;

  beforeAll(async () => {
    target = await sqlite!.target();
    store = await target.open();
    await insertAll(
      store,
      STREAMS.flatMap((s) => streamEvents(s, FROM, CHANGE + 3 * HOUR)),
    );
  }, 60_000);
  afterAll(async () => {
    await target.dispose();
  });

  it('is quiet before the change, and after its first hour', async () => {
    expect(await tokenInflationDetector(context(store, '2026-11-24T14:00:00Z'))).toEqual([]);
    expect(await tokenInflationDetector(context(store, '2026-11-24T15:00:00Z'))).toEqual([]);
  });

  it('pages on extreme inflation, tickets on an input/output shift, ignores shorter answers and small series', async () => {
    const findings = await tokenInflationDetector(context(store, '2026-11-24T16:00:00Z'));
    expect(findings.map(({ kind, severity, scope }) => ({ kind, severity, scope }))).toEqual([
      { kind: 'token_inflation', severity: 'page', scope: { tenant: 'extreme' } },
      { kind: 'token_inflation', severity: 'ticket', scope: { tenant: 'prompts' } },
    ]);
    const [extreme, prompts] = findings;
    expect(extreme!.summary).toMatch(/^Tokens per request of tenant extreme: [\d,]+ in 2026-11-24 14:00–16:00 UTC/);
    expect(extreme!.value / extreme!.baseline!).toBeCloseTo(3, 1);
    expect(prompts!.summary).toMatch(/^Input\/output token ratio of tenant prompts: 0\.6\d in /);
    expect(prompts!.baseline!).toBeCloseTo(0.25, 2);
  });

  it('keeps firing while the change lasts', async () => {
    const findings = await tokenInflationDetector(context(store, '2026-11-24T17:00:00Z'));
    expect(findings.map((f) => f.scope.tenant)).toEqual(['extreme', 'prompts']);
  });

  it('opens only a ticket below factor² even when large', async () => {
    const findings = await tokenInflationDetector(context(store, '2026-11-24T16:00:00Z', { inflation: { factor: 2 } }));
    // ×3 < 2² = 4: a ticket; ×2.5 on the ratio is above the factor 2 too.
    expect(findings.map(({ severity, scope }) => ({ severity, scope }))).toEqual([
      { severity: 'ticket', scope: { tenant: 'extreme' } },
      { severity: 'ticket', scope: { tenant: 'prompts' } },
    ]);
  });
});
