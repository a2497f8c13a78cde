import type pg from 'pg';
import { newEventId } from '../ids.js';
import type { Reservation, UsageEvent } from '../types.js';
import { makeEvent } from './fixtures.js';

/** Helpers for the outbox tests (excluded from the build). */

/** What the shared ledger holds, read straight from its tables. */
export interface LedgerTruth {
  ids: Set<string>;
  /** Rows in events (ids are unique there by the primary key). */
  events: number;
  cost: bigint;
  tokens: bigint;
  /**
   * The same totals as the rollups see them: a doubled rollup increment shows up here (hourly's;
   * ledgerTruth throws when the daily rollup's totals differ from them).
   */
  rollupRequests: bigint;
  rollupCost: bigint;
  rollupTokens: bigint;
}

export async function ledgerTruth(admin: pg.Client, schema: string): Promise<LedgerTruth> {
  const ids = await admin.query<{ id: string }>(`select id from ${schema}.events`);
  const raw = await admin.query<{ n: string; cost: string | null; tokens: string | null }>(
    `select count(*) as n, sum(cost_nano) as cost, sum(tok_input + tok_output) as tokens from ${schema}.events`,
  );
  const rollupSums = (table: 'rollup_hourly' | 'rollup_daily') =>
    admin.query<{ n: string | null; cost: string | null; tokens: string | null }>(
      `select sum(requests) as n, sum(cost_nano) as cost, sum(tok_input + tok_output) as tokens from ${schema}.${table}`,
    );
  const rollup = await rollupSums('rollup_hourly');
  const daily = (await rollupSums('rollup_daily')).rows[0];
  const r = raw.rows[0];
  const u = rollup.rows[0];
  // Both rollups are written in the same transactions: totals that differ mean one was skipped or doubled.
  if (JSON.stringify(daily) !== JSON.stringify(u)) {
    throw new Error(`rollup_daily totals ${JSON.stringify(daily)} differ from rollup_hourly ${JSON.stringify(u)}`);
  }
  return {
    ids: new Set(ids.rows.map((row) => row.id)),
    events: Number(r?.n ?? 0),
    cost: BigInt(r?.cost ?? 0),
    tokens: BigInt(r?.tokens ?? 0),
    rollupRequests: BigInt(u?.n ?? 0),
    rollupCost: BigInt(u?.cost ?? 0),
    rollupTokens: BigInt(u?.tokens ?? 0),
  };
}

/** A gateway-like event with a fresh ULID, spread over a few tenants and hours. */
export function loadEvent(seq: number, base = Date.parse('2026-11-23T08:00:00Z')): UsageEvent {
  return makeEvent({
    id: newEventId(),
    time: new Date(base + (seq % 5) * 3_600_000 + (seq % 1000)),
    tenant: ['acme', 'globex', 'initech'][seq % 3] ?? 'acme',
    model: ['m-a', 'm-b'][seq % 2] ?? 'm-a',
    buckets: { input: 100 + (seq % 50), output: 10 + (seq % 7) },
    cost_nano: 1_000_000n + BigInt(seq % 977),
  });
}

/** Sums of `events` as the ledger should hold them: each id once. */
export function expectedTotals(events: Iterable<UsageEvent>): { ids: Set<string>; cost: bigint; tokens: bigint } {
  const byId = new Map<string, UsageEvent>();
  for (const e of events) if (!byId.has(e.id)) byId.set(e.id, e);
  let cost = 0n;
  let tokens = 0n;
  for (const e of byId.values()) {
    cost += e.cost_nano ?? 0n;
    tokens += BigInt((e.buckets.input ?? 0) + (e.buckets.output ?? 0));
  }
  return { ids: new Set(byId.keys()), cost, tokens };
}

/**
 * Concurrent settle load: `workers` loops, each reserve -> settle like a gateway request, until
 * stop(). Every event whose settle resolved is in `acknowledged` (what clients were promised).
 */
export function settleLoad(
  store: { reserve(r: Reservation): Promise<void>; settle(e: UsageEvent): Promise<void> },
  workers: number,
  pauseMs = 2,
): { acknowledged: Map<string, UsageEvent>; failures: unknown[]; stop(): Promise<void> } {
  const acknowledged = new Map<string, UsageEvent>();
  const failures: unknown[] = [];
  let running = true;
  let seq = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const event = loadEvent(seq++);
      try {
        await store.reserve({
          id: event.id,
          time: event.time,
          source: event.source,
          tenant: event.tenant,
          project: event.project,
          user: event.user,
          feature: event.feature,
          key_id: event.key_id,
          trace_id: event.trace_id,
          tags: event.tags,
          provider: event.provider,
          requested_model: event.requested_model,
          route: event.route,
          streamed: event.streamed,
          estimated_input_tokens: 100,
        });
        await store.settle(event);
        acknowledged.set(event.id, event);
      } catch (err: unknown) {
        failures.push(err);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  return {
    acknowledged,
    failures,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `check` every 25 ms until it holds, or throws naming `what` after `timeoutMs`, with what
 * `describe` reports about the state it found (a CI log then says why, not only that it hung). The
 * bound only stops a hung test; it is not a performance assertion, so it is generous (a loaded CI
 * machine with three replicas backing off after injected outages took over 20 s).
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; describe?: () => unknown } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 50_000);
  while (!(await check())) {
    if (Date.now() > deadline) {
      const state = options.describe === undefined ? '' : `: ${JSON.stringify(await options.describe())}`;
      throw new Error(`timed out waiting for ${what}${state}`);
    }
    await sleep(25);
  }
}
