/**
 * The FOCUS 1.2 export (DESIGN §3, reference billing-formats.md §1): the window's full cost as a
 * Cost and Usage dataset, so that
 *
 *   Σ BilledCost = vendor + pools + shared of the attribution = Σ tenants' cost + unallocated
 *
 * to the nano-USD. Rows:
 * - usage: one per hour × tenant × project × provider × model × bucket, at the events' own list
 *   cost (a pool-served row too: its re-costing is the true-up below), read one UTC day at a time
 *   so memory holds at most a day of groups however long the window;
 * - adjustment: the ledger's adjustments of that hour group (Credit when negative);
 * - from the attribution, over the whole window: per tenant the pool true-ups, idle and shared
 *   shares, then the idle and shared cost no tenant carries (SubAccountId NULL,
 *   Tags {"tenant":"__unallocated__"}).
 *
 * Non-usage rows are Adjustment (or Credit) rows: FOCUS has no category for an allocated share,
 * and "Adjustment covers anything else"; x_CostKind says which kind it is.
 */
import type { SharedCostConfig } from '../config/index.js';
import { invalidInput, PertokenError } from '../errors.js';
import type { CostRow, Store } from '../ledger/index.js';
import { formatDecimalScaled, mulDivHalfEven } from '../money.js';
import { csvField } from '../output.js';
import type { PriceBook } from '../pricing/index.js';
import { BUCKETS, TOKEN_BUCKETS, type Bucket } from '../usage/index.js';
import { splitByPrice, type Attribution, type UsageRow } from './attribute.js';
import { usageRowOf } from './usage.js';
import {
  AI,
  AI_OTHER,
  emptyRecord,
  FOCUS_COLUMNS,
  GENERATIVE_AI,
  METERS,
  SELF_HOSTED_SERVICE,
  SHARED_SERVICE,
  VENDORS,
  type ChargeCategory,
  type ChargeFrequency,
  type CostKind,
  type FocusColumn,
  type FocusRecord,
} from './focus-columns.js';
import type { Pool } from './pools.js';
import type { Window } from './window.js';

export interface FocusDeps {
  /** The ledger, read one UTC day at a time. */
  readonly store: Pick<Store, 'queryCosts'>;
  /** Splits a group's cost over its buckets as the statement does (splitByPrice). */
  readonly priceBook: PriceBook;
  /** AttributionService.attribute over the same window. */
  readonly attribution: Attribution;
  /** Which providers a pool serves (AttributionService.pools). */
  readonly pools: readonly Pick<Pool, 'name' | 'serves'>[];
  /**
   * BillingAccountId and BillingAccountName, and the provider, publisher and invoice issuer of
   * self-hosted and shared rows (the organisation runs the pools and pays the shared costs).
   */
  readonly organization?: string;
  /** shared_costs, to tell a one-off share (One-Time) from a monthly one (Recurring). */
  readonly sharedCosts?: readonly Pick<SharedCostConfig, 'name' | 'per'>[];
}

export const DEFAULT_ORGANIZATION = 'pertoken';
/** The Tags tenant of cost no tenant carries (SubAccountId stays NULL on those rows). */
export const UNALLOCATED_TENANT = '__unallocated__';
/** Rows per CSV chunk: one write per ~100 KB instead of one per row. */
const CSV_BATCH = 500;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Unit prices: 12 decimals, the price book's own scale (PRICE_SCALE = 1e12). */
const PRICE_DIGITS = 12;

/**
 * The window's FOCUS rows, in order: each day's hours (usage rows, each group's adjustment row
 * after them), then the window's true-up, idle and shared rows. The window is checked now, so a
 * caller can refuse it before it starts a response; the ledger is read lazily, one day at a time.
 */
export function focusRecords(window: Window, deps: FocusDeps): AsyncGenerator<FocusRecord> {
  const from = checkInstant(window.from, 'from');
  const to = checkInstant(window.to, 'to');
  if (from >= to) throw invalidInput('to', 'to must be after from');
  const a = deps.attribution.window;
  if (a.from.getTime() !== from || a.to.getTime() !== to) {
    throw new PertokenError('internal', 'the FOCUS export needs the attribution of its own window');
  }
  return records(from, to, new Context(deps), deps.store);
}

async function* records(
  from: number,
  to: number,
  ctx: Context,
  store: Pick<Store, 'queryCosts'>,
): AsyncGenerator<FocusRecord> {
  for (const dayFrom of await daysWithUsage(from, to, store)) {
    const dayTo = Math.min(Math.floor(dayFrom / DAY_MS) * DAY_MS + DAY_MS, to);
    const rows = await store.queryCosts({
      from: new Date(dayFrom),
      to: new Date(dayTo),
      groupBy: ['hour', 'tenant', 'project', 'provider', 'model'],
      filter: {},
    });
    rows.sort(compareGroups);
    for (const row of rows) {
      const hour = Date.parse(row.keys.hour ?? '');
      const period: Period = {
        from: Math.max(hour, from),
        to: Math.min(hour + HOUR_MS, to),
        billing: monthOf(hour),
      };
      yield* ctx.usage(period, usageRowOf(row), row.unpriced_requests);
    }
  }
  // Attribution is one computation over the whole window, so its rows are charged over the window;
  // their billing period is the calendar months it covers (one month for a monthly export).
  yield* ctx.attributed({ from, to, billing: { from: monthOf(from).from, to: monthOf(to - 1).to } });
}

/**
 * The start (clipped to the window) of each UTC day of [from, to) that holds usage, in order: one
 * rollup query, so that only those days are read. Walking every day instead made a window of
 * 0000-01-01..9999-12-31 run ~740,000 queries (90 s of CPU on an empty ledger) for one request.
 */
async function daysWithUsage(from: number, to: number, store: Pick<Store, 'queryCosts'>): Promise<number[]> {
  const days = await store.queryCosts({ from: new Date(from), to: new Date(to), groupBy: ['day'], filter: {} });
  return days
    .map((row) => Math.max(Date.parse(`${row.keys.day ?? ''}T00:00:00Z`), from))
    .filter((ms) => Number.isFinite(ms))
    .sort((a, b) => a - b);
}

/**
 * FOCUS records as CSV text chunks (RFC 4180 fields, LF line ends as src/output.ts writes every
 * CSV): the header line first, then CSV_BATCH rows per chunk. An empty export is the header.
 */
export async function* focusCsv(
  records: AsyncIterable<FocusRecord> | Iterable<FocusRecord>,
  batch = CSV_BATCH,
): AsyncGenerator<string> {
  const names: readonly FocusColumn[] = FOCUS_COLUMNS.map((c) => c.name);
  let chunk = `${names.join(',')}\n`;
  let rows = 0;
  for await (const record of records) {
    chunk += `${names.map((name) => csvField(record[name])).join(',')}\n`;
    if (++rows === batch) {
      yield chunk;
      chunk = '';
      rows = 0;
    }
  }
  if (chunk !== '') yield chunk;
}

interface Period {
  /** Charge period, ms, [from, to). */
  readonly from: number;
  readonly to: number;
  readonly billing: { readonly from: number; readonly to: number };
}

interface Party {
  readonly name: string;
  readonly service: string;
  /** The pool serving the provider, if one does. */
  readonly pool: string | null;
}

type MutableRecord = Record<FocusColumn, string | null>;

/** What every row of one export shares: the organisation, the pools and the price book. */
class Context {
  readonly #deps: FocusDeps;
  readonly #organization: string;

  constructor(deps: FocusDeps) {
    this.#deps = deps;
    this.#organization = deps.organization ?? DEFAULT_ORGANIZATION;
  }

  /** One hour group: a row per bucket with tokens, then its adjustment row. */
  *usage(period: Period, row: UsageRow, unpriced: number): Generator<FocusRecord> {
    const party = this.#party(row.provider);
    let buckets: Bucket[] = BUCKETS.filter((b) => (row.tokens[b] ?? 0) > 0);
    // Calls with neither tokens nor units (a flat per-request price, or unpriced): count requests.
    const tokens = buckets.length > 0 ? row.tokens : { requests: row.requests };
    if (buckets.length === 0 && (row.requests > 0 || row.costNano !== 0n)) buckets = ['requests'];
    // One bucket takes the whole cost (and a cost with no count to weigh by needs no split).
    const parts =
      buckets.length === 1
        ? [row.costNano]
        : splitByPrice({ ...row, tokens }, buckets, this.#deps.priceBook, new Date(period.from));
    for (const [i, bucket] of buckets.entries()) {
      const quantity = tokens[bucket] ?? 0;
      const cost = parts[i] ?? 0n;
      const isToken = TOKEN_BUCKETS.includes(bucket);
      const block = isToken ? 1_000_000n : 1000n;
      const { sku, meter } = METERS[bucket];
      const skuId = `${row.provider}:${row.model}:${sku}`;
      const r = this.#base(period, 'Usage', 'Usage-Based', cost, 'usage');
      Object.assign(r, this.#who(party, row.tenant, row.project), {
        ChargeDescription: `${row.model} ${meter.toLowerCase()}${party.pool ? ` on pool ${party.pool}` : ''}`,
        ConsumedQuantity: decimal(BigInt(quantity), 0),
        ConsumedUnit: isToken ? 'Tokens' : 'Requests',
        // cost ÷ PricingQuantity, half-even at the price book's scale: the book's own price
        // whenever that price reproduces the cost (then the division is exact), otherwise the
        // average the group actually paid (tiers, per-event rounding).
        ListUnitPrice: decimal(
          quantity === 0 ? 0n : mulDivHalfEven(cost, block * 1000n, BigInt(quantity)),
          PRICE_DIGITS,
        ),
        PricingCategory: 'Standard',
        PricingQuantity: decimal(BigInt(quantity), isToken ? 6 : 3),
        PricingUnit: isToken ? '1000000 Tokens' : '1000 Requests',
        ServiceSubcategory: GENERATIVE_AI,
        SkuId: skuId,
        SkuMeter: meter,
        SkuPriceId: skuId,
        SkuPriceDetails: JSON.stringify({ x_Model: row.model, x_TokenType: bucket }),
        x_Provider: row.provider,
        x_Model: row.model,
        x_TokenBucket: bucket,
        x_Pool: party.pool,
        x_Requests: i === 0 ? String(row.requests) : null,
        x_UnpricedRequests: i === 0 ? String(unpriced) : null,
      } satisfies Partial<MutableRecord>);
      yield r;
    }
    if (row.adjustmentsNano !== 0n) {
      const credit = row.adjustmentsNano < 0n;
      const r = this.#base(period, credit ? 'Credit' : 'Adjustment', 'One-Time', row.adjustmentsNano, 'adjustment');
      Object.assign(r, this.#who(party, row.tenant, row.project), {
        ChargeDescription: `Ledger ${credit ? 'credits' : 'adjustments'} on ${row.model} usage`,
        ServiceSubcategory: GENERATIVE_AI,
        x_Provider: row.provider,
        x_Model: row.model,
        x_Pool: party.pool,
      } satisfies Partial<MutableRecord>);
      yield r;
    }
  }

  /** The window's true-ups, idle and shared shares per tenant, then what no tenant carries. */
  *attributed(period: Period): Generator<FocusRecord> {
    const attribution = this.#deps.attribution;
    const pool = (name: string): Party => this.#poolParty(name);
    const shared: Party = { name: this.#organization, service: SHARED_SERVICE, pool: null };
    const tenants = [...attribution.tenants.values()].sort((x, y) => (x.tenant < y.tenant ? -1 : 1));
    for (const account of tenants) {
      for (const p of attribution.pools) {
        const trueup = account.trueups.get(p.name) ?? 0n;
        if (trueup === 0n) continue;
        const r = this.#base(period, 'Adjustment', 'Usage-Based', trueup, 'pool_trueup');
        Object.assign(r, this.#who(pool(p.name), account.tenant, null), {
          ChargeDescription: `${account.tenant}'s usage on pool ${p.name}, trued up to its busy GPU cost`,
          ServiceSubcategory: GENERATIVE_AI,
          x_Pool: p.name,
        } satisfies Partial<MutableRecord>);
        yield r;
      }
      for (const line of account.lines.values()) {
        if (line.costNano === 0n) continue;
        if (line.kind === 'idle') {
          const r = this.#base(period, 'Adjustment', 'Recurring', line.costNano, 'idle');
          Object.assign(r, this.#who(pool(line.provider), account.tenant, null), {
            ChargeDescription: `${account.tenant}'s share of idle GPU time of pool ${line.provider}`,
            ServiceSubcategory: GENERATIVE_AI,
            x_Pool: line.provider,
          } satisfies Partial<MutableRecord>);
          yield r;
        } else if (line.kind === 'shared') {
          const r = this.#base(period, 'Adjustment', this.#sharedFrequency(line.model), line.costNano, 'shared');
          Object.assign(r, this.#who(shared, account.tenant, null), {
            ChargeDescription: `${account.tenant}'s share of shared cost ${line.model}`,
            ServiceSubcategory: AI_OTHER,
            x_SharedCost: line.model,
          } satisfies Partial<MutableRecord>);
          yield r;
        }
      }
    }
    for (const p of attribution.pools) {
      if (p.unallocatedIdleNano === 0n) continue;
      const r = this.#base(period, 'Adjustment', 'Recurring', p.unallocatedIdleNano, 'idle');
      Object.assign(r, this.#who(pool(p.name), null, null), {
        ChargeDescription: `Idle GPU time of pool ${p.name} that no tenant carries`,
        ServiceSubcategory: GENERATIVE_AI,
        x_Pool: p.name,
      } satisfies Partial<MutableRecord>);
      yield r;
    }
    if (attribution.unallocatedSharedNano !== 0n) {
      const r = this.#base(period, 'Adjustment', 'Recurring', attribution.unallocatedSharedNano, 'shared');
      Object.assign(r, this.#who(shared, null, null), {
        ChargeDescription: 'Shared costs that no tenant carries',
        ServiceSubcategory: AI_OTHER,
      } satisfies Partial<MutableRecord>);
      yield r;
    }
  }

  /** The columns every row fills: money (all four costs equal), periods, account, category. */
  #base(period: Period, category: ChargeCategory, frequency: ChargeFrequency, nano: bigint, kind: CostKind) {
    const money = decimal(nano, 9);
    const r = emptyRecord();
    Object.assign(r, {
      BilledCost: money,
      BillingAccountId: this.#organization,
      BillingAccountName: this.#organization,
      BillingCurrency: 'USD',
      BillingPeriodEnd: dateTime(period.billing.to),
      BillingPeriodStart: dateTime(period.billing.from),
      ChargeCategory: category,
      ChargeFrequency: frequency,
      ChargePeriodEnd: dateTime(period.to),
      ChargePeriodStart: dateTime(period.from),
      ContractedCost: money,
      EffectiveCost: money,
      ListCost: money,
      ServiceCategory: AI,
      x_CostKind: kind,
    } satisfies Partial<MutableRecord>);
    return r;
  }

  /** Provider columns, the tenant as sub-account and the Tags; a null tenant is unallocated. */
  #who(party: Party, tenant: string | null, project: string | null): Partial<MutableRecord> {
    const tags: Record<string, string> = { tenant: tenant ?? UNALLOCATED_TENANT };
    if (project !== null) tags.project = project;
    return {
      InvoiceIssuerName: party.name,
      ProviderName: party.name,
      PublisherName: party.name,
      ServiceName: party.service,
      SubAccountId: tenant,
      SubAccountName: tenant,
      Tags: JSON.stringify(tags),
    };
  }

  /** A ledger provider: the vendor bought direct, or the organisation when a pool serves it. */
  #party(provider: string): Party {
    const pool = this.#deps.pools.find((p) => p.serves.has(provider));
    if (pool) return this.#poolParty(pool.name);
    const vendor = VENDORS.get(provider);
    return { name: vendor?.name ?? provider, service: vendor?.service ?? `${provider} API`, pool: null };
  }

  #poolParty(pool: string): Party {
    return { name: this.#organization, service: SELF_HOSTED_SERVICE, pool };
  }

  #sharedFrequency(name: string): ChargeFrequency {
    const cost = this.#deps.sharedCosts?.find((c) => c.name === name);
    return cost?.per === 'one_off' ? 'One-Time' : 'Recurring';
  }
}

const GROUP_ORDER = ['hour', 'tenant', 'project', 'provider', 'model'] as const;

/** Hour, then tenant, project (none first), provider and model: a stable file order. */
function compareGroups(a: CostRow, b: CostRow): number {
  for (const key of GROUP_ORDER) {
    const x = a.keys[key] ?? '';
    const y = b.keys[key] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** bigint × 10^-digits as FOCUS Decimal text: exact, and always with a decimal point (T9). */
export function decimal(scaled: bigint, digits: number): string {
  const text = formatDecimalScaled(scaled, digits);
  return text.includes('.') ? text : `${text}.0`;
}

/** UTC `YYYY-MM-DDTHH:mm:ssZ`, no fractional seconds (the validator's regex allows none). */
function dateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** The calendar month (UTC) holding an instant: the billing period of its charges. */
function monthOf(ms: number): { from: number; to: number } {
  const d = new Date(ms);
  return {
    from: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    to: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}

function checkInstant(date: Date, param: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw invalidInput(param, `${param} is not a valid date`);
  return ms;
}
