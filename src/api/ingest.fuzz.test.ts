import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUsd } from '../money.js';
import { countLikeArb, fuzzParameters, fuzzTimeout, mutantOf } from '../testing/fuzz.js';
import { startHarness, type Harness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';

/**
 * POST /v1/usage/events under fire: batches of events, each a valid one with parts replaced (any
 * type, huge or negative counts, odd dates and costs, unknown fields). Never a 5xx; a rejected
 * event names a field of the event as senders write it; what is accepted adds exactly its own
 * cost and tokens to /api/v1/costs; re-sending the batch accepts nothing, answers duplicates and
 * changes no total.
 */

const RUNS = 60;

/** The fields of an event as senders write them (DESIGN §3), and `event` for the event itself. */
const EXTERNAL_FIELDS = new Set([
  'event',
  'id',
  'time',
  'source',
  'specversion',
  'type',
  'tenant',
  'project',
  'user',
  'feature',
  'key_id',
  'trace_id',
  'tags',
  'provider',
  'model',
  'requested_model',
  'route',
  'status',
  'streamed',
  'latency_ms',
  'ttft_ms',
  'tokens',
  'cost_usd',
  'raw_usage',
  'request_hash',
  'client_address',
]);

const ID_MARK = 'fuzz-id-';

const BASE = {
  id: ID_MARK,
  time: '2026-11-20T10:15:00Z',
  source: 'batch-job',
  tenant: 'acme',
  project: 'search',
  provider: 'openai',
  model: 'gpt-4o-mini',
  tokens: { input: 1000, cache_read: 10, output: 50 },
  tags: { team: 'a' },
  latency_ms: 120,
};

const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 3, arbitrary: countLikeArb },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '-1.500000000',
      '0.1234567891',
      '1e3',
      '0.000000001',
      '12.345678901',
      '99999999999999999999.000000000',
      '1000000.000000000',
      '1000000.000000001',
      '2026-11-20T10:15:00+01:00',
      '2026-11-20',
      '9999-12-31T23:59:59Z',
      '0000-01-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      'no-such-model',
      'claude-sonnet-4-5',
      'anthropic',
      'cancelled',
      '::1',
      '1.2.3.4',
      'deadbeef',
      'a\u0000b',
      'x'.repeat(300),
    ),
  },
);

/** An event whose sender already knows its cost. */
const REPORTED = { ...BASE, model: 'my-finetune', cost_usd: '0.000180000' };

const eventArb = fc.oneof(
  { weight: 4, arbitrary: mutantOf(BASE, valueArb, 2) },
  { weight: 3, arbitrary: mutantOf(REPORTED, valueArb, 2) },
  { weight: 2, arbitrary: fc.constantFrom(BASE, REPORTED) },
);
const batchArb = fc.array(eventArb, { minLength: 1, maxLength: 8 });

interface Totals {
  requests: number;
  cost: bigint;
  tokens: Record<string, number>;
}

interface Reply {
  accepted: string[];
  duplicate: string[];
  rejected: Array<{ id: string | null; index: number; reason: string }>;
}

let h: Harness;
let run = 0;

beforeAll(async () => {
  h = await startHarness({ upstream: 'http://127.0.0.1:9', adminToken: ADMIN });
});
afterAll(async () => {
  await h.close();
});

async function totals(): Promise<Totals> {
  const res = await call(h.url, 'GET', '/api/v1/costs?from=0000-01-01&to=9999-12-31');
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  const t = res.json.totals as { requests: number; cost_usd: string; tokens: Record<string, number> };
  expect(t.cost_usd).toMatch(/^\d+\.\d{9}$/);
  return { requests: t.requests, cost: parseUsd(t.cost_usd), tokens: t.tokens };
}

/** Unique ids per run, so that runs do not see each other's events as duplicates. */
function withRunIds(batch: unknown[]): unknown[] {
  run++;
  return batch.map((e, i) =>
    e !== null && typeof e === 'object' && !Array.isArray(e) && (e as { id?: unknown }).id === ID_MARK
      ? { ...e, id: `${ID_MARK}${run}-${i}` }
      : e,
  );
}

describe('POST /v1/usage/events', () => {
  it(
    'never a 5xx; rejections name the field; accepted cost adds up; a re-sent batch changes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(batchArb, fc.boolean(), async (generated, wrapped) => {
          const batch = withRunIds(generated);
          const body = wrapped ? { events: batch } : batch;
          const before = await totals();
          const first = await call(h.url, 'POST', '/v1/usage/events', body);
          expect(first.status, JSON.stringify(first.json)).toBe(200);
          const reply = first.json as unknown as Reply;
          expect(reply.accepted.length + reply.duplicate.length + reply.rejected.length).toBe(batch.length);
          for (const r of reply.rejected) {
            const field = /^([A-Za-z_]+)[.:]/.exec(r.reason)?.[1] ?? '';
            expect(EXTERNAL_FIELDS.has(field), `reason names no field of an event: ${r.reason}`).toBe(true);
          }

          // What was accepted is exactly what the totals gained.
          const after = await totals();
          let cost = 0n;
          const tokens: Record<string, number> = {};
          for (const id of reply.accepted) {
            const stored = await call(h.url, 'GET', `/api/v1/events/${encodeURIComponent(id)}`);
            expect(stored.status, id).toBe(200);
            const costUsd = stored.json.cost_usd as string | null;
            if (costUsd !== null) {
              expect(costUsd).toMatch(/^\d+\.\d{9}$/);
              cost += parseUsd(costUsd);
            }
            for (const [b, n] of Object.entries(stored.json.buckets as Record<string, number>)) {
              expect(Number.isSafeInteger(n) && n > 0, `${id} ${b}=${n}`).toBe(true);
              tokens[b] = (tokens[b] ?? 0) + n;
            }
          }
          expect(after.requests - before.requests).toBe(reply.accepted.length);
          expect(after.cost - before.cost).toBe(cost);
          for (const [b, n] of Object.entries(tokens)) expect((after.tokens[b] ?? 0) - (before.tokens[b] ?? 0)).toBe(n);

          // Idempotent on id: the same batch again accepts nothing and changes no total.
          const again = await call(h.url, 'POST', '/v1/usage/events', body);
          expect(again.status).toBe(200);
          const second = again.json as unknown as Reply;
          expect(second.accepted).toEqual([]);
          expect([...second.duplicate].sort()).toEqual([...reply.accepted, ...reply.duplicate].sort());
          expect(second.rejected.map((r) => r.index)).toEqual(reply.rejected.map((r) => r.index));
          expect(await totals()).toEqual(after);
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 200),
  );

  it(
    'a body that is no batch is a 400 naming `events` or the JSON, never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue({ maxDepth: 2 }).filter((v) => !Array.isArray(v)),
            fc.record({ events: fc.jsonValue({ maxDepth: 1 }).filter((v) => !Array.isArray(v)) }),
          ),
          async (body) => {
            const res = await call(h.url, 'POST', '/v1/usage/events', body);
            expect(res.status, JSON.stringify(res.json)).toBe(400);
            const error = res.json.error as { param: string | null; code: string };
            expect(error.param === 'events' || error.code === 'invalid_json', JSON.stringify(error)).toBe(true);
          },
        ),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 50),
  );
});
