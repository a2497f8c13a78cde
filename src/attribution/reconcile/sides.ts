/**
 * The two sides of reconciliation, joined on day × provider × tenant × project × model × bucket:
 * what the gateway metered (the ledger's cost rows, each group's cost split over its buckets by
 * `splitByPrice`) and what the provider billed (imported billing rows).
 *
 * Joining rules, each chosen so that one fact is never counted twice:
 * - A billing row's day is its bucket's start day in UTC (a monthly FOCUS line lands on day 1).
 * - Per provider × day, tokens come from ONE source and money from ONE source: tokens from the usage
 *   reports first (openai-usage, anthropic-usage), then any source with quantities; money from the
 *   provider cost APIs first (openai-costs, anthropic-cost), then FOCUS. Importing both a provider's
 *   own report and a FOCUS export of it therefore does not double the bill.
 * - A provider × tenant with a billing row mapped to the tenant but no project (billing_accounts
 *   entry without `project`) is compared at tenant level: both sides' project becomes null there.
 * - Model names are compared as stored. When a billed model has no metered twin of the same
 *   provider, the family rule of src/glob.ts (`modelFamilyMatch`: `gpt-4o` ~ `gpt-4o-2024-08-06`,
 *   either way round) pairs them: one metered candidate -> the billed rows take the metered name;
 *   several (two snapshots of one family) -> the metered rows take the billed family name.
 */
import { modelFamilyMatch } from '../../glob.js';
import type { CostRow, StoredAdjustment, StoredBillingRow } from '../../ledger/index.js';
import type { PriceBook } from '../../pricing/index.js';
import { BUCKETS, type Bucket } from '../../usage/index.js';
import { splitByPrice } from '../attribute.js';
import { bucketOfReconcileId } from './adjustment-id.js';

export interface CellKey {
  readonly day: string;
  readonly provider: string;
  readonly tenant: string | null;
  readonly project: string | null;
  readonly model: string | null;
  readonly bucket: Bucket | null;
}

/** One joined key: both sides' sums and the evidence the explanations read. */
export interface Cell {
  key: CellKey;
  meteredTokens: bigint;
  meteredNano: bigint;
  /** Requests, unpriced and estimated requests of the metered group (day × … × model) the bucket belongs to. */
  requests: number;
  unpriced: number;
  estimated: number;
  /** null when the provider × day has no source of that kind imported (unknown, not zero). */
  billedTokens: bigint | null;
  billedNano: bigint | null;
  /** Sum of the Credit lines among billedNano. */
  creditNano: bigint;
  /** Any billed row flagged batch (or service tier batch). */
  batch: boolean;
  accounts: Set<string>;
  descriptions: Set<string>;
  /** "billed gpt-4o ~ metered gpt-4o-2024-08-06" when the family rule joined the names. */
  modelNote: string | null;
}

const USAGE_FIRST = ['openai-usage', 'anthropic-usage'];
const COST_FIRST = ['openai-costs', 'anthropic-cost'];
const COST_LAST = ['focus'];

export const DAY_MS = 86_400_000;

export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function keyId(k: CellKey): string {
  return JSON.stringify([k.day, k.provider, k.tenant, k.project, k.model, k.bucket]);
}

export interface JoinResult {
  cells: Cell[];
  /** provider -> days with metered usage but no billing row at all (nothing imported to compare). */
  notImported: Map<string, Set<string>>;
}

export function joinSides(
  metered: readonly CostRow[],
  billed: readonly StoredBillingRow[],
  book: PriceBook,
  /** `reconcile --apply`'s own adjustments (adjustment-id.ts): each is booked on its bucket. */
  applied: readonly StoredAdjustment[] = [],
): JoinResult {
  const tenantOnly = new Set<string>();
  for (const r of billed) if (r.tenant !== null && r.project === null) tenantOnly.add(pairId(r.provider, r.tenant));
  const aliases = modelAliases(metered, billed);
  const cells = new Map<string, Cell>();
  const cell = (key: CellKey): Cell => {
    const id = keyId(key);
    let c = cells.get(id);
    if (!c) cells.set(id, (c = newCell(key)));
    return c;
  };

  // Billed side: the chosen token and cost source of each provider × day.
  const sources = new Map<string, { tokens: string | null; cost: string | null }>();
  for (const [id, rows] of groupBy(billed, (r) => `${r.provider}\u0000${dayOf(r.start_ms)}`))
    sources.set(id, {
      tokens: pickSource(rows, (r) => r.quantity !== null, [...USAGE_FIRST, ...COST_FIRST]),
      cost: pickSource(rows, (r) => r.amount_nano !== null, COST_FIRST),
    });
  for (const r of billed) {
    const day = dayOf(r.start_ms);
    const chosen = sources.get(`${r.provider}\u0000${day}`);
    const tokensHere = chosen?.tokens === r.source;
    const costHere = chosen?.cost === r.source;
    if (!tokensHere && !costHere) continue;
    const project = r.tenant !== null && tenantOnly.has(pairId(r.provider, r.tenant)) ? null : r.project;
    const model = r.model === null ? null : (aliases.billed.get(aliasId(r.provider, r.model)) ?? r.model);
    const c = cell({ day, provider: r.provider, tenant: r.tenant, project, model, bucket: r.bucket });
    if (model !== r.model && r.model !== null) c.modelNote = `billed ${r.model} ~ metered ${model}`;
    if (tokensHere && r.quantity !== null) c.billedTokens = (c.billedTokens ?? 0n) + r.quantity;
    if (costHere && r.amount_nano !== null) {
      c.billedNano = (c.billedNano ?? 0n) + r.amount_nano;
      if (r.charge_category?.toLowerCase() === 'credit') c.creditNano += r.amount_nano;
    }
    if (r.batch === true || r.service_tier?.toLowerCase() === 'batch') c.batch = true;
    c.accounts.add(r.account_id);
    if (r.description !== null) c.descriptions.add(r.description);
  }

  // Metered side: each group's net cost (list + adjustments) split over its buckets; an adjustment
  // --apply appended is not split but booked on the bucket it closed.
  const appliedByGroup = groupBy(
    applied.filter((a) => bucketOfReconcileId(a.id) !== undefined),
    (a) => groupId(dayOf(a.time_ms), a.provider, a.tenant, a.project, a.model),
  );
  const notImported = new Map<string, Set<string>>();
  for (const row of metered) {
    // A group of refused calls alone (ledger status `refused`) used nothing a provider bills.
    if (row.requests === 0 && row.adjustments_nano === 0n) continue;
    const day = row.keys.day ?? '';
    const provider = row.keys.provider ?? '';
    const tenant = row.keys.tenant ?? '';
    const servedModel = row.keys.model ?? '';
    const chosen = sources.get(`${provider}\u0000${day}`);
    if (!chosen) {
      const days = notImported.get(provider) ?? new Set<string>();
      notImported.set(provider, days.add(day));
      continue;
    }
    const project = tenantOnly.has(pairId(provider, tenant)) ? null : (row.keys.project ?? null);
    const model = aliases.metered.get(aliasId(provider, servedModel)) ?? servedModel;
    const own = appliedByGroup.get(groupId(day, provider, tenant, row.keys.project ?? null, servedModel)) ?? [];
    const net = row.cost_nano + row.adjustments_nano - own.reduce((sum, a) => sum + a.amount_nano, 0n);
    const buckets = BUCKETS.filter((b) => (row.tokens[b] ?? 0) > 0);
    const usage = {
      tenant,
      project,
      provider,
      model: servedModel,
      requests: row.requests,
      tokens: row.tokens,
      costNano: net,
      adjustmentsNano: 0n,
    };
    const parts = buckets.length > 0 ? splitByPrice(usage, buckets, book, new Date(`${day}T00:00:00Z`)) : [net];
    const targets: Array<Bucket | null> = buckets.length > 0 ? buckets : [null];
    targets.forEach((bucket, i) => {
      const c = cell({ day, provider, tenant, project, model, bucket });
      c.meteredTokens += BigInt(bucket === null ? 0 : (row.tokens[bucket] ?? 0));
      c.meteredNano += parts[i] ?? 0n;
      c.requests += row.requests;
      c.unpriced += row.unpriced_requests;
      c.estimated += row.estimated_requests;
      if (model !== servedModel) c.modelNote = `billed ${model} ~ metered ${servedModel}`;
    });
    for (const a of own) {
      const bucket = bucketOfReconcileId(a.id);
      if (bucket !== undefined) cell({ day, provider, tenant, project, model, bucket }).meteredNano += a.amount_nano;
    }
  }
  // A key the chosen sources do not name reads 0, not unknown, when the provider × day has them.
  for (const c of cells.values()) {
    const chosen = sources.get(`${c.key.provider}\u0000${c.key.day}`);
    if (chosen?.tokens && c.billedTokens === null) c.billedTokens = 0n;
    if (chosen?.cost && c.billedNano === null) c.billedNano = 0n;
  }
  return { cells: [...cells.values()], notImported };
}

function newCell(key: CellKey): Cell {
  return {
    key,
    meteredTokens: 0n,
    meteredNano: 0n,
    requests: 0,
    unpriced: 0,
    estimated: 0,
    billedTokens: null,
    billedNano: null,
    creditNano: 0n,
    batch: false,
    accounts: new Set(),
    descriptions: new Set(),
    modelNote: null,
  };
}

function pairId(provider: string, tenant: string): string {
  return `${provider}\u0000${tenant}`;
}

function groupId(day: string, provider: string, tenant: string, project: string | null, model: string): string {
  return JSON.stringify([day, provider, tenant, project, model]);
}

function aliasId(provider: string, model: string): string {
  return `${provider}\u0000${model}`;
}

/** The preferred source present among `rows` that has the field; any other such source after them (FOCUS last). */
function pickSource(
  rows: readonly StoredBillingRow[],
  has: (r: StoredBillingRow) => boolean,
  preferred: readonly string[],
): string | null {
  const present = [...new Set(rows.filter(has).map((r) => r.source))].sort();
  if (present.length === 0) return null;
  const rank = (s: string): number => {
    const i = preferred.indexOf(s);
    if (i >= 0) return i;
    return COST_LAST.includes(s) ? preferred.length + 1 : preferred.length;
  };
  return present.sort((a, b) => rank(a) - rank(b))[0] ?? null;
}

function groupBy<T>(items: readonly T[], id: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = id(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Per provider: billed name -> metered name (one candidate), metered name -> billed family (several). */
function modelAliases(
  metered: readonly CostRow[],
  billed: readonly StoredBillingRow[],
): { billed: Map<string, string>; metered: Map<string, string> } {
  const meteredModels = new Map<string, Set<string>>();
  for (const r of metered) {
    const provider = r.keys.provider ?? '';
    const set = meteredModels.get(provider) ?? new Set<string>();
    meteredModels.set(provider, set.add(r.keys.model ?? ''));
  }
  const out = { billed: new Map<string, string>(), metered: new Map<string, string>() };
  const seen = new Set<string>();
  for (const r of billed) {
    if (r.model === null || seen.has(aliasId(r.provider, r.model))) continue;
    seen.add(aliasId(r.provider, r.model));
    const models = meteredModels.get(r.provider) ?? new Set<string>();
    if (models.has(r.model)) continue;
    const billedModel = r.model;
    const candidates = [...models].filter((m) => modelFamilyMatch(billedModel, m) || modelFamilyMatch(m, billedModel));
    if (candidates.length === 1) out.billed.set(aliasId(r.provider, billedModel), candidates[0]!);
    else for (const m of candidates) out.metered.set(aliasId(r.provider, m), billedModel);
  }
  return out;
}
