import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../../ledger/testing/dialects.js';
import { context, insertAll, streamEvents, type Stream } from '../testing/seasonal-fixtures.js';
import type { Finding } from '../types.js';
import { anomalyDetector, cacheDropDetector, dataQualityDetector, tokenInflationDetector } from './index.js';

/**
 * Five weeks of seasonal hourly traffic for five tenants on a real SQLite ledger, each tenant with
 * one incident in one hour, and every detector of this folder evaluated at the hour after it.
 * The timeline (UTC): history from Monday 2026-10-19; Monday 11-23 10:00 is a Monday peak with no
 * incident; Tuesday 11-24 14:00 acme's search feature spikes ×15; 16:00–18:00 globex's prompt
 * cache is broken; Wednesday 11-25 10:00 initech's extract prompts double (and stay so); hooli,
 * two days old, spikes ×6 at 14:00; tiny spikes ×10 at 16:00 while staying under every absolute
 * floor; umbrella's unpriced self-hosted traffic spikes ×10 at 13:00.
 */

const FROM = Date.parse('2026-10-19T00:00:00Z');
const TO = Date.parse('2026-11-26T00:00:00Z');
const at = (hour: string) => (ms: number) => ms === Date.parse(hour);
/** A deploy breaks globex's prompt prefix for two hours. */
const storm = (ms: number) => ms >= Date.parse('2026-11-24T16:00:00Z') && ms < Date.parse('2026-11-24T18:00:00Z');

const gpt4o = { input: 8000, output: 1500 };
const STREAMS: Stream[] = [
  {
    tenant: 'acme',
    project: 'web',
    feature: 'chat',
    key: 'key-web',
    model: 'gpt-4o',
    peak: 20,
    buckets: gpt4o,
    seed: 1,
  },
  {
    tenant: 'acme',
    project: 'web',
    feature: 'search',
    key: 'key-web',
    model: 'gpt-4o',
    peak: 10,
    buckets: gpt4o,
    seed: 2,
    incident: (ms) => (at('2026-11-24T14:00:00Z')(ms) ? { requests: 15 } : null),
  },
  {
    tenant: 'acme',
    project: 'api',
    feature: 'summarize',
    key: 'key-api',
    model: 'gpt-4o-mini',
    peak: 15,
    buckets: { input: 12000, output: 800 },
    seed: 3,
  },
  {
    tenant: 'globex',
    project: 'support',
    feature: 'chat-support',
    key: 'key-g1',
    model: 'claude-sonnet-4',
    peak: 80,
    buckets: { input: 8000, cache_read: 12000, output: 500 },
    seed: 4,
    incident: (ms) => (storm(ms) ? { buckets: { input: 20000, output: 500 } } : null),
  },
  {
    tenant: 'globex',
    project: 'support',
    feature: 'triage',
    key: 'key-g2',
    model: 'claude-sonnet-4',
    peak: 60,
    buckets: { input: 6000, cache_read: 10000, output: 300 },
    seed: 5,
    incident: (ms) => (storm(ms) ? { buckets: { input: 16000, output: 300 } } : null),
  },
  {
    tenant: 'initech',
    project: 'core',
    feature: 'extract',
    key: 'key-i1',
    model: 'gpt-4o',
    peak: 30,
    buckets: { input: 2000, output: 250 },
    seed: 6,
    // A prompt change: from this hour on, every request carries twice the tokens.
    incident: (ms) => (ms >= Date.parse('2026-11-25T10:00:00Z') ? { tokens: 2 } : null),
  },
  {
    tenant: 'initech',
    project: 'core',
    feature: 'classify',
    key: 'key-i1',
    model: 'gpt-4o-mini',
    peak: 20,
    buckets: { input: 1500, output: 50 },
    seed: 7,
  },
  {
    tenant: 'hooli',
    project: null,
    feature: 'assistant',
    key: null,
    model: 'gpt-4o',
    peak: 20,
    buckets: gpt4o,
    seed: 8,
    from: '2026-11-23T14:00:00Z',
    incident: (ms) => (at('2026-11-25T14:00:00Z')(ms) ? { requests: 6 } : null),
  },
  {
    tenant: 'tiny',
    project: null,
    feature: null,
    key: null,
    model: 'gpt-4o',
    peak: 5,
    buckets: { input: 1500, output: 200 },
    seed: 9,
    incident: (ms) => (at('2026-11-25T16:00:00Z')(ms) ? { requests: 10 } : null),
  },
  {
    // A self-hosted model without a price: tokens are all that can show a runaway.
    tenant: 'umbrella',
    project: null,
    feature: 'batch-tagging',
    key: null,
    model: 'llama-3.1-70b',
    peak: 40,
    buckets: { input: 3000, output: 500 },
    seed: 10,
    incident: (ms) => (at('2026-11-25T13:00:00Z')(ms) ? { requests: 10 } : null),
  },
];

type Seen = Pick<Finding, 'kind' | 'severity' | 'scope'>;

/** initech's prompt change stays, and so does its ticket (until the 7-day median absorbs it). */
const INFLATED: Seen = {
  kind: 'token_inflation',
  severity: 'ticket',
  scope: { tenant: 'initech', feature: 'extract' },
};

// The detectors only read through queryCosts and listEvents, whose dialect parity the ledger's own
// suite covers; series.test.ts runs the reads on PostgreSQL too.
const sqlite = (await ledgerDialects()).find((d) => d.name === 'sqlite');

describe.skipIf(sqlite === undefined)('statistical detectors on five weeks of seasonal traffic (sqlite)', () => {
  let target: LedgerTarget;
  let store: LedgerStore;

  beforeAll(async () => {
    target = await sqlite!.target();
    store = await target.open();
    await insertAll(
      store,
      STREAMS.flatMap((s) => streamEvents(s, FROM, TO)),
    );
  }, 120_000);
  afterAll(async () => {
    await target.dispose();
  });

  async function evaluate(iso: string): Promise<Finding[]> {
    const ctx = context(store, iso);
    const all = await Promise.all(
      [anomalyDetector, tokenInflationDetector, cacheDropDetector, dataQualityDetector].map((d) => d(ctx)),
    );
    return all.flat();
  }
  const seen = (findings: Finding[]): Seen[] =>
    findings.map(({ kind, severity, scope }) => ({ kind, severity, scope }));

  it('stays quiet through the Monday-morning peak (it is in every seasonal bucket)', async () => {
    const findings = await evaluate('2026-11-23T11:00:00Z');
    expect(seen(findings)).toEqual([]);
  });

  it('ignores data at and after `at`: the spike hour has not closed yet', async () => {
    expect(seen(await evaluate('2026-11-24T14:00:00Z'))).toEqual([]);
    // Half-way through the spike hour the scored hour is still 13:00–14:00.
    expect(seen(await evaluate('2026-11-24T14:30:00Z'))).toEqual([]);
  });

  it("pages once for a feature's spend spike, naming tenant and feature", async () => {
    const findings = await evaluate('2026-11-24T15:00:00Z');
    expect(seen(findings)).toEqual([
      { kind: 'spend_anomaly', severity: 'page', scope: { tenant: 'acme', feature: 'search' } },
    ]);
    const [spike] = findings;
    // ~10 requests of $0.035 expected, ~100 observed.
    expect(spike!.baseline!).toBeGreaterThan(0.25);
    expect(spike!.baseline!).toBeLessThan(0.45);
    expect(spike!.value).toBeGreaterThan(3);
    expect(spike!.summary).toMatch(
      /^Spend of tenant acme, feature search: \$\d+\.\d\d\/h in 2026-11-24 14:00–15:00 UTC vs \$0\.\d+\/h expected/,
    );
    expect(spike!.summary).toContain('also seen in');
  });

  it('reports a cache-miss storm as a spend anomaly at once, and as cache_drop from its second hour', async () => {
    expect(seen(await evaluate('2026-11-24T17:00:00Z'))).toEqual([
      { kind: 'spend_anomaly', severity: 'page', scope: { tenant: 'globex' } },
    ]);
    const findings = await evaluate('2026-11-24T18:00:00Z');
    expect(seen(findings)).toEqual([
      { kind: 'spend_anomaly', severity: 'page', scope: { tenant: 'globex' } },
      { kind: 'cache_drop', severity: 'ticket', scope: { tenant: 'globex' } },
    ]);
    const drop = findings.find((f) => f.kind === 'cache_drop')!;
    expect(drop.value).toBe(0);
    // (12000·80 + 10000·60) ÷ (20000·80 + 16000·60) ≈ 0.61 cached in a normal hour.
    expect(drop.baseline!).toBeCloseTo(0.61, 1);
    expect(drop.summary).toContain('2026-11-24 16:00–18:00 UTC');
  });

  it('opens a token_inflation ticket when a prompt change doubles tokens per request for two hours', async () => {
    // One inflated hour is not enough: a few long prompts could do that.
    expect(seen(await evaluate('2026-11-25T11:00:00Z'))).toEqual([]);
    const findings = await evaluate('2026-11-25T12:00:00Z');
    // Volume stays below the anomaly floors ($1/h, 100k tokens/h): only the ratio sees it.
    expect(seen(findings)).toEqual([INFLATED]);
    const [inflation] = findings;
    expect(inflation!.value / inflation!.baseline!).toBeCloseTo(2, 1);
    expect(inflation!.summary).toMatch(
      /^Tokens per request of tenant initech, feature extract: [\d,]+ in 2026-11-25 10:00–12:00 UTC over \d+ requests/,
    );
  });

  it('compares a two-day-old series with its recent hours (ticket at most)', async () => {
    const findings = await evaluate('2026-11-25T15:00:00Z');
    expect(seen(findings)).toEqual([
      { kind: 'spend_anomaly', severity: 'ticket', scope: { tenant: 'hooli' } },
      INFLATED,
    ]);
    expect(findings[0]!.summary).toContain('young series');
  });

  it('opens a ticket, never a page, for a token spike that costs nothing (a self-hosted model)', async () => {
    const findings = await evaluate('2026-11-25T14:00:00Z');
    expect(seen(findings)).toEqual([
      { kind: 'token_anomaly', severity: 'ticket', scope: { tenant: 'umbrella' } },
      INFLATED,
    ]);
    expect(findings[0]!.summary).toMatch(/^Tokens of tenant umbrella: [\d,]+ tokens\/h in 2026-11-25 13:00–14:00 UTC/);
  });

  it('stays quiet on a tenfold spike of a tiny series (below $1/h and 100k tokens/h)', async () => {
    expect(seen(await evaluate('2026-11-25T17:00:00Z'))).toEqual([INFLATED]);
    // Below a $0.10 floor the spike is found — and so is the cost of initech's doubled prompts.
    const low = context(store, '2026-11-25T17:00:00Z', { anomaly: { min_impact_usd: '0.1' } });
    expect(seen(await anomalyDetector(low))).toEqual([
      { kind: 'spend_anomaly', severity: 'ticket', scope: { tenant: 'initech', feature: 'extract' } },
      { kind: 'spend_anomaly', severity: 'ticket', scope: { tenant: 'tiny' } },
    ]);
  });
});
