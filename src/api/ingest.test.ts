import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { ledgerDialects, type LedgerTarget } from '../ledger/testing/dialects.js';
import { createPriceBook, MAX_CALL_COST_NANO } from '../pricing/index.js';
import { MAX_CLOCK_SKEW_MS } from './ingest-fields.js';
import { parseEventBatch, type BatchContext } from './ingest.js';

const NOW = new Date('2026-11-20T12:00:00.000Z');
// A custom model at $1M per 1M output tokens: a million and one tokens pass the per-event cost bound.
const book = createPriceBook({
  overrides: [{ provider: 'acme', model: 'pricey', from: '2020-01-01', output: 1_000_000 }],
});
const context: BatchContext = { book, now: NOW };

const event = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  time: '2026-11-20T10:15:00Z',
  source: 'batch-job',
  tenant: 'acme',
  provider: 'openai',
  model: 'gpt-4o-mini',
  tokens: { input: 10, output: 5 },
  ...extra,
});

/** Names the ledger uses inside; a sender never wrote them, so a reason must not show them. */
const INTERNAL = /cost_nano|buckets|tok_|time_ms|user_id|price_ref|usage_issues/;

/** One bad field per event: [id, overrides, the field the reason must name first]. */
const BAD: Array<[string, Record<string, unknown>, string]> = [
  ['neg-cost', { cost_usd: '-0.000000001' }, 'cost_usd'],
  ['neg-cost-big', { cost_usd: '-12.5' }, 'cost_usd'],
  ['huge-cost', { cost_usd: '1000000.000000001' }, 'cost_usd'],
  ['float-cost', { cost_usd: 0.25 }, 'cost_usd'],
  ['ten-decimals', { cost_usd: '0.0000000001' }, 'cost_usd'],
  ['exp-cost', { cost_usd: '1e3' }, 'cost_usd'],
  ['neg-tokens', { tokens: { input: -1 } }, 'tokens.input'],
  ['frac-tokens', { tokens: { output: 1.5 } }, 'tokens.output'],
  ['huge-tokens', { tokens: { input: 1e12 + 1 } }, 'tokens.input'],
  ['unknown-bucket', { tokens: { input: 1, cached: 2 } }, 'tokens'],
  ['bad-time', { time: '2026-02-30T00:00:00Z' }, 'time'],
  ['no-zone', { time: '2026-11-20T10:15:00' }, 'time'],
  ['future', { time: '2026-11-20T12:05:00.001Z' }, 'time'],
  ['nul-model', { model: 'gpt-4o\u0000' }, 'model'],
  ['ctl-source', { source: 'job\nx' }, 'source'],
  ['ctl-route', { route: 'a\u007f' }, 'route'],
  ['ctl-requested', { requested_model: '\u0001' }, 'requested_model'],
  ['ctl-tag', { tags: { env: 'prod\u0000' } }, 'tags.env'],
  ['bad-tenant', { tenant: 'a b' }, 'tenant'],
  ['bad-status', { status: 'refunded' }, 'status'],
  ['neg-latency', { latency_ms: -3 }, 'latency_ms'],
  ['bad-hash', { request_hash: 'zz' }, 'request_hash'],
  ['bad-address', { client_address: '10.0.0.256' }, 'client_address'],
];

describe('parseEventBatch: a bad field rejects its own event, named as the sender wrote it', () => {
  it('rejects each bad event alone, under its external field name, and keeps the rest', () => {
    const batch = [event('good-1'), ...BAD.map(([id, extra]) => event(id, extra)), event('good-2')];
    const { events, rejected } = parseEventBatch(batch, context);
    expect(events.map((e) => e.id)).toEqual(['good-1', 'good-2']);
    expect(rejected.map((r) => [r.id, r.index, r.reason.split(':')[0]])).toEqual(
      BAD.map(([id, , field], i) => [id, i + 1, field]),
    );
    for (const r of rejected) expect(r.reason, r.id ?? '').not.toMatch(INTERNAL);
  });

  it('says why a negative cost_usd is refused', () => {
    const { rejected } = parseEventBatch([event('neg', { cost_usd: '-1.000000000' })], context);
    expect(rejected).toEqual([{ id: 'neg', index: 0, reason: 'cost_usd: must not be negative' }]);
  });

  it('keeps batch-level problems a 400 for the batch', () => {
    for (const body of [null, 'events', { events: 'x' }, { list: [] }, Array.from({ length: 5001 }, () => ({}))]) {
      expect(() => parseEventBatch(body, context), JSON.stringify(body).slice(0, 40)).toThrow(PertokenError);
    }
  });
});

describe('parseEventBatch: events dated in the future', () => {
  const at = (ms: number): string => new Date(NOW.getTime() + ms).toISOString();

  it('accepts up to MAX_CLOCK_SKEW_MS ahead of the injected clock and refuses one millisecond more', () => {
    expect(MAX_CLOCK_SKEW_MS).toBe(5 * 60_000);
    const { events, rejected } = parseEventBatch(
      [
        event('past', { time: '2020-01-01T00:00:00Z' }),
        event('now', { time: at(0) }),
        event('edge', { time: at(MAX_CLOCK_SKEW_MS) }),
        event('beyond', { time: at(MAX_CLOCK_SKEW_MS + 1) }),
        // The same instant written with an offset is the same instant.
        event('offset', { time: '2026-11-20T14:05:00.000+02:00' }),
        event('tomorrow', { time: at(86_400_000) }),
      ],
      context,
    );
    expect(events.map((e) => e.id)).toEqual(['past', 'now', 'edge', 'offset']);
    expect(rejected.map((r) => r.id)).toEqual(['beyond', 'tomorrow']);
    expect(rejected[0]?.reason).toBe(
      'time: is 301 s ahead of the server clock (2026-11-20T12:00:00.000Z); an event may be dated at most 300 s ahead',
    );
  });

  it('reads the clock it is given, and a narrower skew when asked', () => {
    const later = { book, now: new Date(NOW.getTime() + 86_400_000) };
    expect(parseEventBatch([event('tomorrow', { time: at(86_400_000) })], later).rejected).toEqual([]);
    const strict = { ...context, maxSkewMs: 0 };
    expect(parseEventBatch([event('one-ms', { time: at(1) })], strict).rejected.map((r) => r.id)).toEqual(['one-ms']);
  });
});

describe.each(await ledgerDialects())('every event parseEventBatch accepts is storable: $name', ({ skip, target }) => {
  let ledger: LedgerTarget;
  beforeAll(async () => {
    if (!skip) ledger = await target();
  });
  afterAll(async () => ledger?.dispose());

  it.skipIf(skip !== null)('one batch of the bad events and valid edge cases inserts whole', async () => {
    const store = await ledger.open();
    const edges = [
      event('edge-max-tokens', { tokens: { input: 1e12, output: 1e12, cache_read: 1e12 } }),
      event('edge-max-priced', { provider: 'acme', model: 'pricey', tokens: { output: 1_000_000 } }),
      // Priced past one call's bound: kept, unpriced with the reason, as the gateway keeps such a call.
      event('edge-priced-too-much', { provider: 'acme', model: 'pricey', tokens: { output: 1_000_001 } }),
      event('edge-zero-cost', { cost_usd: '-0' }),
      event('edge-max-cost', { cost_usd: '1000000' }),
      event('edge-max-cost-2', { cost_usd: '1000000.000000000' }),
      event('edge-unicode', { model: 'modèle-☃', source: 'ジョブ', tags: { é: 'ü' } }),
      event('edge-raw-nul', { raw_usage: { note: 'a\u0000b' } }),
      event('edge-zone', { client_address: 'fe80::1%eth0' }),
      event('edge-year-0', { time: '0000-01-01T00:00:00Z' }),
    ];
    const { events, rejected } = parseEventBatch([...BAD.map(([id, extra]) => event(id, extra)), ...edges], context);
    expect(rejected).toHaveLength(BAD.length);
    const stored = await store.insertEvents(events);
    expect(stored).toEqual({ accepted: edges.map((e) => e.id), duplicate: [] });
    expect((await store.getEvent('edge-max-cost'))?.cost_nano).toBe(MAX_CALL_COST_NANO);
    const tooMuch = await store.getEvent('edge-priced-too-much');
    expect(tooMuch?.cost_nano).toBeNull();
    expect(tooMuch?.usage_issues.join()).toContain('more than one call can cost');
  });
});
