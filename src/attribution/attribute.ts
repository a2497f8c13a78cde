/**
 * Full cost: every nano-dollar of the window's vendor spend, GPU pool cost and shared cost lands
 * on a tenant line or on a named unallocated line, so that
 *
 *   Σ tenants' cost + unallocated idle + unallocated shared = vendor + pools + shared   (exactly)
 *
 * Vendor rows keep their ledger cost (list + adjustments). Rows served by a GPU pool are re-costed
 * at the pool's busy cost, shared by the GPU work each row took; their events are never rewritten:
 * the difference to the events' own per-token price is the pool's true-up (`events_cost_usd` vs
 * `busy_usd` in the pools report, an Adjustment row in the FOCUS export).
 */
import type { PriceBook } from '../pricing/index.js';
import type { SharedCostConfig } from '../config/index.js';
import { allocate } from '../money.js';
import { BUCKETS, OUTPUT_BUCKETS, TOKEN_BUCKETS, type Bucket, type Buckets } from '../usage/index.js';
import { addLine, costOf, newTenant, tokenCount, type PoolAccount, type TenantAccount } from './accounts.js';
import { bucketWork, busySplit, gpuMicroHours, poolBoundaries, sliceCost, workOf, type Pool } from './pools.js';
import { allocateShared, sharedAmountIn } from './shared.js';
import { slice, type Window } from './window.js';

/** What the ledger holds for one tenant × project × provider × model over a slice. */
export interface UsageRow {
  readonly tenant: string;
  readonly project: string | null;
  readonly provider: string;
  readonly model: string;
  readonly requests: number;
  readonly tokens: Buckets;
  /** List cost of the events (unpriced ones add nothing). */
  readonly costNano: bigint;
  readonly adjustmentsNano: bigint;
}

/** The ledger's usage over a window, grouped by tenant, project, provider and model. */
export type UsageSource = (window: Window) => Promise<UsageRow[]>;

export interface AttributionInputs {
  readonly pools: readonly Pool[];
  readonly sharedCosts: readonly SharedCostConfig[];
  readonly priceBook: PriceBook;
  readonly usage: UsageSource;
}

export interface Attribution {
  readonly window: Window;
  readonly tenants: Map<string, TenantAccount>;
  readonly pools: PoolAccount[];
  readonly unallocatedIdleNano: bigint;
  readonly unallocatedSharedNano: bigint;
  /**
   * The sources the identity is checked against. Vendor: the ledger's net cost of every row no
   * pool re-costs (vendor rows, and pool-served rows outside the pool's provisioned time).
   */
  readonly vendorNano: bigint;
  readonly poolsNano: bigint;
  readonly sharedNano: bigint;
}

export async function attribute(window: Window, inputs: AttributionInputs): Promise<Attribution> {
  const tenants = new Map<string, TenantAccount>();
  const account = (tenant: string): TenantAccount => {
    let a = tenants.get(tenant);
    if (!a) tenants.set(tenant, (a = newTenant(tenant)));
    return a;
  };
  const pools = inputs.pools.map(newPoolAccount);
  let vendorNano = 0n;
  let unallocatedIdleNano = 0n;

  for (const part of slice(window, poolBoundaries(inputs.pools))) {
    const rows = await inputs.usage(part);
    const served = new Map<Pool, UsageRow[]>();
    for (const row of rows) {
      const tenant = account(row.tenant);
      tenant.tokens += tokenCount(row.tokens, TOKEN_BUCKETS);
      tenant.requests += row.requests;
      const pool = inputs.pools.find((p) => p.serves.has(row.provider));
      if (pool) {
        const rowsOfPool = served.get(pool);
        if (rowsOfPool) rowsOfPool.push(row);
        else served.set(pool, [row]);
        continue;
      }
      vendorNano += row.costNano + row.adjustmentsNano;
      tenant.vendorNano += row.costNano;
      tenant.adjustmentsNano += row.adjustmentsNano;
      addVendorLines(tenant, row, inputs.priceBook, part.from);
    }
    inputs.pools.forEach((pool, i) => {
      const result = addPoolSlice(pool, pools[i]!, part, served.get(pool) ?? [], account);
      unallocatedIdleNano += result.unallocatedIdleNano;
      vendorNano += result.unpooledNano;
    });
  }

  // Shared costs are weighed by what each tenant carries before them.
  const measures = [...tenants.values()].map((t) => ({ tenant: t.tenant, costNano: costOf(t), tokens: t.tokens }));
  let sharedNano = 0n;
  let unallocatedSharedNano = 0n;
  for (const cost of inputs.sharedCosts) {
    const amount = sharedAmountIn(cost, window);
    sharedNano += amount;
    const shares = allocateShared(cost, amount, measures);
    if (shares.size === 0) unallocatedSharedNano += amount;
    for (const [tenant, share] of shares) {
      const a = account(tenant);
      a.sharedNano += share;
      addLine(a, { kind: 'shared', project: null, provider: '__shared__', model: cost.name, bucket: null }, 0, share);
    }
  }

  return {
    window,
    tenants,
    pools,
    unallocatedIdleNano,
    unallocatedSharedNano,
    vendorNano,
    poolsNano: pools.reduce((sum, p) => sum + p.costNano, 0n),
    sharedNano,
  };
}

function newPoolAccount(pool: Pool): PoolAccount {
  return {
    name: pool.name,
    gpuMicroHours: 0n,
    costNano: 0n,
    busyNano: 0n,
    idleNano: 0n,
    tokens: 0,
    outputTokens: 0,
    eventsNano: 0n,
    overCapacity: false,
    unallocatedIdleNano: 0n,
  };
}

/**
 * A vendor row's list cost split over its buckets by what each bucket's tokens cost at the
 * slice's prices (exact: the parts sum to the row's cost), plus its adjustments as one line.
 */
function addVendorLines(tenant: TenantAccount, row: UsageRow, book: PriceBook, at: Date): void {
  const buckets = BUCKETS.filter((b) => (row.tokens[b] ?? 0) > 0);
  const base = { kind: 'vendor' as const, project: row.project, provider: row.provider, model: row.model };
  if (buckets.length > 0) {
    const parts = splitByPrice(row, buckets, book, at);
    buckets.forEach((b, i) => addLine(tenant, { ...base, bucket: b }, row.tokens[b] ?? 0, parts[i] ?? 0n));
  } else if (row.costNano !== 0n) {
    addLine(tenant, { ...base, bucket: 'requests' }, 0, row.costNano);
  }
  if (row.adjustmentsNano !== 0n) {
    addLine(tenant, { ...base, kind: 'adjustment', bucket: null }, 0, row.adjustmentsNano);
  }
}

/**
 * A row's list cost over the given buckets in proportion to what each bucket's tokens cost at the
 * prices in effect at `at` (token counts when the model has no price): exact, the parts sum to
 * the row's cost. The ledger stores one cost per event, so per-bucket cost is this split.
 */
export function splitByPrice(row: UsageRow, buckets: readonly Bucket[], book: PriceBook, at: Date): bigint[] {
  if (row.costNano === 0n) return buckets.map(() => 0n);
  const rates = book.rates(row.provider, row.model, at)?.rates ?? [];
  const priced = buckets.map((b) => {
    const rate = rates.find((r) => r.bucket === b);
    if (!rate) return 0n;
    // Per-unit prices are per 1 unit, per-mtok prices per 1M tokens: bring both to per 1M.
    return BigInt(row.tokens[b] ?? 0) * rate.scaled * (rate.per === 'unit' ? 1_000_000n : 1n);
  });
  const weights = priced.some((w) => w > 0n) ? priced : buckets.map((b) => BigInt(row.tokens[b] ?? 0));
  return allocate(row.costNano, weights);
}

/** One pool over one slice: its cost, busy share per served line, and idle by the pool's mode. */
function addPoolSlice(
  pool: Pool,
  totals: PoolAccount,
  part: Window,
  rows: readonly UsageRow[],
  account: (tenant: string) => TenantAccount,
): { unallocatedIdleNano: bigint; unpooledNano: bigint } {
  for (const row of rows) {
    totals.tokens += tokenCount(row.tokens, TOKEN_BUCKETS);
    totals.outputTokens += tokenCount(row.tokens, OUTPUT_BUCKETS);
    totals.eventsNano += row.costNano + row.adjustmentsNano;
  }
  const cost = sliceCost(pool, part);
  // Usage outside the provisioned time: the events keep their own price (nothing to true up to).
  if (cost === null) {
    let unpooledNano = 0n;
    for (const row of rows) {
      const tenant = account(row.tenant);
      tenant.selfhostedNano += row.costNano + row.adjustmentsNano;
      unpooledNano += row.costNano + row.adjustmentsNano;
      addServedLines(pool, tenant, row, row.costNano + row.adjustmentsNano);
    }
    return { unallocatedIdleNano: 0n, unpooledNano };
  }
  const work = rows.reduce((sum, r) => sum + workOf(pool, r.tokens), 0n);
  const split = busySplit(pool, cost, work);
  totals.gpuMicroHours += gpuMicroHours(cost);
  totals.costNano += cost.costNano;
  totals.busyNano += split.busyNano;
  totals.idleNano += split.idleNano;
  totals.overCapacity ||= split.overCapacity;

  const shares =
    work > 0n
      ? allocate(
          split.busyNano,
          rows.map((r) => workOf(pool, r.tokens)),
        )
      : [];
  rows.forEach((row, i) => {
    const tenant = account(row.tenant);
    const share = shares[i] ?? 0n;
    tenant.selfhostedNano += share;
    tenant.trueups.set(pool.name, (tenant.trueups.get(pool.name) ?? 0n) + share - row.costNano - row.adjustmentsNano);
    addServedLines(pool, tenant, row, share);
  });

  const idle = split.idleNano;
  if (idle === 0n) return { unallocatedIdleNano: 0n, unpooledNano: 0n };
  const users = [...new Set(rows.filter((r) => workOf(pool, r.tokens) > 0n).map((r) => r.tenant))].sort();
  if (pool.idle === 'line' || users.length === 0) {
    totals.unallocatedIdleNano += idle;
    return { unallocatedIdleNano: idle, unpooledNano: 0n };
  }
  const weights = users.map((t) =>
    pool.idle === 'even' ? 1n : rows.filter((r) => r.tenant === t).reduce((sum, r) => sum + workOf(pool, r.tokens), 0n),
  );
  allocate(idle, weights).forEach((share, i) => {
    const tenant = account(users[i]!);
    tenant.idleNano += share;
    addLine(tenant, { kind: 'idle', project: null, provider: pool.name, model: '__idle__', bucket: null }, 0, share);
  });
  return { unallocatedIdleNano: 0n, unpooledNano: 0n };
}

/** A served row's busy share over its buckets by GPU work; its events' list cost kept beside. */
function addServedLines(pool: Pool, tenant: TenantAccount, row: UsageRow, amount: bigint): void {
  const buckets = TOKEN_BUCKETS.filter((b) => (row.tokens[b] ?? 0) > 0);
  const base = { kind: 'selfhosted' as const, project: row.project, provider: row.provider, model: row.model };
  if (buckets.length === 0) {
    if (amount !== 0n || row.costNano !== 0n) addLine(tenant, { ...base, bucket: 'requests' }, 0, amount, row.costNano);
    return;
  }
  const weights = buckets.map((b) => bucketWork(pool, b, row.tokens[b] ?? 0));
  const parts = allocate(amount, weights);
  const listParts = row.costNano === 0n ? buckets.map(() => 0n) : allocate(row.costNano, weights);
  buckets.forEach((b, i) => addLine(tenant, { ...base, bucket: b }, row.tokens[b] ?? 0, parts[i]!, listParts[i]!));
}
