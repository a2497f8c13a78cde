/** The running totals attribution builds: per tenant (with its lines) and per pool. */
import type { Buckets } from '../usage/index.js';

export type LineKind = 'vendor' | 'selfhosted' | 'adjustment' | 'idle' | 'shared' | 'minimum';

/** One statement line: project × provider × model × bucket, or a non-usage charge. */
export interface Line {
  readonly kind: LineKind;
  readonly project: string | null;
  readonly provider: string;
  readonly model: string;
  /** The token bucket of a usage line; null for adjustment, idle, shared and minimum lines. */
  readonly bucket: string | null;
  tokens: number;
  costNano: bigint;
  /** The events' own list cost, for self-hosted lines (their cost is the pool's busy share). */
  listNano: bigint;
  chargeNano: bigint;
  includedNano: bigint;
}

export interface TenantAccount {
  readonly tenant: string;
  vendorNano: bigint;
  selfhostedNano: bigint;
  idleNano: bigint;
  sharedNano: bigint;
  adjustmentsNano: bigint;
  tokens: number;
  requests: number;
  readonly lines: Map<string, Line>;
  /**
   * Per pool: the busy share this tenant carries minus its served events' own cost (list +
   * adjustments) — the adjustment that trues the events up to the pool's actual GPU cost.
   */
  readonly trueups: Map<string, bigint>;
}

export interface PoolAccount {
  readonly name: string;
  gpuMicroHours: bigint;
  costNano: bigint;
  busyNano: bigint;
  idleNano: bigint;
  /** Tokens the pool served (every token bucket). */
  tokens: number;
  /** Output-side tokens, for GPU-hours and $ per 1M output tokens. */
  outputTokens: number;
  /** The served events' own cost (their per-token prices, adjustments included). */
  eventsNano: bigint;
  overCapacity: boolean;
  /** Idle that no tenant carries (idle: line, or nobody used the pool). */
  unallocatedIdleNano: bigint;
}

export function costOf(account: TenantAccount): bigint {
  return account.vendorNano + account.selfhostedNano + account.idleNano + account.sharedNano + account.adjustmentsNano;
}

export function newTenant(tenant: string): TenantAccount {
  return {
    tenant,
    vendorNano: 0n,
    selfhostedNano: 0n,
    idleNano: 0n,
    sharedNano: 0n,
    adjustmentsNano: 0n,
    tokens: 0,
    requests: 0,
    lines: new Map(),
    trueups: new Map(),
  };
}

/** Adds to the line of that key, creating it. */
export function addLine(
  account: TenantAccount,
  key: Omit<Line, 'tokens' | 'costNano' | 'listNano' | 'chargeNano' | 'includedNano'>,
  tokens: number,
  costNano: bigint,
  listNano = 0n,
): void {
  const id = JSON.stringify([key.kind, key.project, key.provider, key.model, key.bucket]);
  const line = account.lines.get(id);
  if (line) {
    line.tokens += tokens;
    line.costNano += costNano;
    line.listNano += listNano;
    return;
  }
  account.lines.set(id, { ...key, tokens, costNano, listNano, chargeNano: 0n, includedNano: 0n });
}

export function tokenCount(tokens: Buckets, buckets: readonly string[]): number {
  let n = 0;
  for (const b of buckets) n += (tokens as Record<string, number | undefined>)[b] ?? 0;
  return n;
}
