/**
 * Chargeback statements (DESIGN §3 "Full cost and chargeback"): per tenant what it cost, what it
 * is charged and the margin, with the lines that make it up, and the identity that proves nothing
 * was lost: Σ tenants' cost_usd + unallocated = vendor + pools + shared, to the nano-USD.
 */
import type { PlanConfig } from '../config/index.js';
import { formatUsd, mulDivHalfEven } from '../money.js';
import { BUCKETS } from '../usage/index.js';
import { costOf, type Line, type LineKind, type TenantAccount } from './accounts.js';
import type { Attribution } from './attribute.js';
import { applyPlan } from './plans.js';

export interface StatementLineJson {
  kind: LineKind;
  project: string | null;
  provider: string;
  model: string;
  bucket: string | null;
  tokens: number;
  cost_usd: string;
  charge_usd: string;
  /** Part of the charge covered by the plan's included allowance. */
  included_usd: string;
  /** Self-hosted lines: what the events' own per-token prices said (the pool re-costs them). */
  list_cost_usd?: string;
}

export interface MoneyFields {
  vendor_usd: string;
  selfhosted_usd: string;
  idle_usd: string;
  shared_usd: string;
  adjustments_usd: string;
  cost_usd: string;
  charge_usd: string;
  margin_usd: string;
  tokens: number;
  /** Full cost per 1M tokens; null without tokens. */
  cost_per_mtok_usd: string | null;
}

export interface TenantStatementJson extends MoneyFields {
  tenant: string;
  /** showback (charged at cost) or plan. */
  basis: 'showback' | 'plan';
  lines: StatementLineJson[];
}

export interface ChargebackJson {
  period: string | null;
  from: string;
  to: string;
  currency: 'USD';
  tenants: TenantStatementJson[];
  /** Cost no tenant carries; null in a statement narrowed to one tenant. */
  unallocated: { idle_usd: string; shared_usd: string } | null;
  totals: MoneyFields;
  /** What was attributed; null in a statement narrowed to one tenant. */
  inputs: { vendor_usd: string; pools_usd: string; shared_usd: string; total_usd: string } | null;
}

/** Usage lines first (vendor and self-hosted together), then adjustments, idle, shared, minimum. */
const KIND_RANK: Record<LineKind, number> = { vendor: 0, selfhosted: 0, adjustment: 1, idle: 2, shared: 3, minimum: 4 };

function compareLines(a: Line, b: Line): number {
  const rank = KIND_RANK[a.kind] - KIND_RANK[b.kind];
  if (rank !== 0) return rank;
  const text = (x: string | null): string => x ?? '\uffff';
  for (const [x, y] of [
    [text(a.project), text(b.project)],
    [a.provider, b.provider],
    [a.model, b.model],
  ] as const) {
    if (x !== y) return x < y ? -1 : 1;
  }
  return bucketRank(a.bucket) - bucketRank(b.bucket);
}

const bucketRank = (bucket: string | null): number => (BUCKETS as readonly string[]).indexOf(bucket ?? '');

interface Sums {
  vendor: bigint;
  selfhosted: bigint;
  idle: bigint;
  shared: bigint;
  adjustments: bigint;
  cost: bigint;
  charge: bigint;
  tokens: number;
}

function addSums(into: Sums, s: Sums): void {
  into.vendor += s.vendor;
  into.selfhosted += s.selfhosted;
  into.idle += s.idle;
  into.shared += s.shared;
  into.adjustments += s.adjustments;
  into.cost += s.cost;
  into.charge += s.charge;
  into.tokens += s.tokens;
}

function moneyFields(s: Sums): MoneyFields {
  return {
    vendor_usd: formatUsd(s.vendor),
    selfhosted_usd: formatUsd(s.selfhosted),
    idle_usd: formatUsd(s.idle),
    shared_usd: formatUsd(s.shared),
    adjustments_usd: formatUsd(s.adjustments),
    cost_usd: formatUsd(s.cost),
    charge_usd: formatUsd(s.charge),
    margin_usd: formatUsd(s.charge - s.cost),
    tokens: s.tokens,
    cost_per_mtok_usd: s.tokens > 0 ? formatUsd(mulDivHalfEven(s.cost, 1_000_000n, BigInt(s.tokens))) : null,
  };
}

function lineJson(line: Line): StatementLineJson {
  return {
    kind: line.kind,
    project: line.project,
    provider: line.provider,
    model: line.model,
    bucket: line.bucket,
    tokens: line.tokens,
    cost_usd: formatUsd(line.costNano),
    charge_usd: formatUsd(line.chargeNano),
    included_usd: formatUsd(line.includedNano),
    ...(line.kind === 'selfhosted' ? { list_cost_usd: formatUsd(line.listNano) } : {}),
  };
}

export interface StatementOptions {
  period?: string;
  /** Narrow the statement to one tenant (a `read` key's own, or `?tenant=`). */
  tenant?: string | null;
}

/** Prices every tenant's lines under its plan and presents the statement. */
export function buildStatement(
  attribution: Attribution,
  plans: readonly PlanConfig[],
  options: StatementOptions = {},
): ChargebackJson {
  const accounts = [...attribution.tenants.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : 1));
  const tenants: TenantStatementJson[] = [];
  const total: Sums = {
    vendor: 0n,
    selfhosted: 0n,
    idle: 0n,
    shared: 0n,
    adjustments: 0n,
    cost: 0n,
    charge: 0n,
    tokens: 0,
  };
  for (const account of accounts) {
    const statement = tenantStatement(
      account,
      plans.find((p) => p.tenant === account.tenant),
    );
    if (options.tenant && account.tenant !== options.tenant) continue;
    tenants.push(statement.json);
    addSums(total, statement.sums);
  }
  const narrowed = Boolean(options.tenant);
  const inputsTotal = attribution.vendorNano + attribution.poolsNano + attribution.sharedNano;
  return {
    period: options.period ?? null,
    from: attribution.window.from.toISOString(),
    to: attribution.window.to.toISOString(),
    currency: 'USD',
    tenants,
    unallocated: narrowed
      ? null
      : {
          idle_usd: formatUsd(attribution.unallocatedIdleNano),
          shared_usd: formatUsd(attribution.unallocatedSharedNano),
        },
    totals: moneyFields(total),
    inputs: narrowed
      ? null
      : {
          vendor_usd: formatUsd(attribution.vendorNano),
          pools_usd: formatUsd(attribution.poolsNano),
          shared_usd: formatUsd(attribution.sharedNano),
          total_usd: formatUsd(inputsTotal),
        },
  };
}

function tenantStatement(
  account: TenantAccount,
  plan: PlanConfig | undefined,
): { json: TenantStatementJson; sums: Sums } {
  const lines = [...account.lines.values()].sort(compareLines);
  const minimum = applyPlan(plan, lines);
  if (minimum) lines.push(minimum);
  const sums: Sums = {
    vendor: account.vendorNano,
    selfhosted: account.selfhostedNano,
    idle: account.idleNano,
    shared: account.sharedNano,
    adjustments: account.adjustmentsNano,
    cost: costOf(account),
    charge: lines.reduce((sum, l) => sum + l.chargeNano, 0n),
    tokens: account.tokens,
  };
  return {
    json: {
      tenant: account.tenant,
      basis: plan ? 'plan' : 'showback',
      ...moneyFields(sums),
      lines: lines.map(lineJson),
    },
    sums,
  };
}
