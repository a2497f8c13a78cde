/**
 * The demo upstream's Admin API: OpenAI `GET /v1/organization/usage/completions` and
 * `/v1/organization/costs`, Anthropic `GET /v1/organizations/usage_report/messages` and
 * `/cost_report`, over what this server really served (billing-ledger.ts), so billing pulls and
 * reconciliation run offline. Day buckets only (`bucket_width=1d`); a window start is snapped to
 * its UTC midnight, as Anthropic does (OpenAI's partial first bucket, trap T6, is not imitated:
 * the demo keeps no finer record than the day). Pages hold `limit` buckets, empty days included,
 * and continue through an opaque `page` cursor.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { invalidInput, PertokenError } from '../errors.js';
import { createPriceBook, type PriceBook } from '../pricing/index.js';
import {
  anthropicCost,
  anthropicUsage,
  openaiCosts,
  openaiUsage,
  RawNumber,
  type ReportSource,
} from './admin-reports.js';
import { DAY_MS, type BillingLedger } from './billing-ledger.js';
import type { Wire } from './wire-errors.js';

interface AdminRoute {
  wire: Wire;
  maxLimit: number;
  groupBy: readonly string[];
  build: (src: ReportSource, q: { day: number; groupBy: ReadonlySet<string> }) => unknown[];
}

/** Documented group_by values per report; the demo's own dimensions are model and project/workspace. */
const ROUTES: Readonly<Record<string, AdminRoute>> = {
  '/v1/organization/usage/completions': {
    wire: 'openai',
    maxLimit: 31,
    groupBy: ['project_id', 'user_id', 'api_key_id', 'model', 'batch', 'service_tier'],
    build: openaiUsage,
  },
  '/v1/organization/costs': {
    wire: 'openai',
    maxLimit: 180,
    groupBy: ['project_id', 'line_item', 'api_key_id'],
    build: openaiCosts,
  },
  '/v1/organizations/usage_report/messages': {
    wire: 'anthropic',
    maxLimit: 31,
    groupBy: ['api_key_id', 'workspace_id', 'model', 'service_tier', 'context_window', 'inference_geo'],
    build: anthropicUsage,
  },
  '/v1/organizations/cost_report': {
    wire: 'anthropic',
    maxLimit: 31,
    groupBy: ['workspace_id', 'description'],
    build: anthropicCost,
  },
};

const DEFAULT_LIMIT = 7;

/** The wire of an Admin API path, or null when the path is not one. */
export function adminWire(method: string, path: string): Wire | null {
  return method === 'GET' ? (ROUTES[path]?.wire ?? null) : null;
}

export interface AdminApiOptions {
  ledger: BillingLedger;
  /** The one admin key accepted; null accepts any non-empty key. */
  adminKey: string | null;
  now?: () => number;
}

export class AdminApi {
  readonly #source: ReportSource;
  readonly #adminKey: string | null;
  readonly #now: () => number;

  constructor(options: AdminApiOptions) {
    let book: PriceBook | null = null;
    // Loaded on the first report: most demo servers never answer one.
    this.#source = { ledger: options.ledger, prices: () => (book ??= createPriceBook()) };
    this.#adminKey = options.adminKey;
    this.#now = options.now ?? Date.now;
  }

  /** The JSON text of one page (numbers written with their exact digits); throws a PertokenError. */
  reply(path: string, query: URLSearchParams, headers: IncomingHttpHeaders): string {
    const route = ROUTES[path];
    if (route === undefined) throw new PertokenError('not_found', `no Admin API report at ${path}`);
    this.#authorize(route.wire, headers);
    const window = route.wire === 'openai' ? openaiWindow(query, this.#now()) : anthropicWindow(query, this.#now());
    const width = query.get('bucket_width') ?? '1d';
    if (width !== '1d') throw invalidInput('bucket_width', `the demo upstream reports 1d buckets only, got "${width}"`);
    const limit = readLimit(query.get('limit'), route.maxLimit);
    const groupBy = readGroupBy(query, route);
    const first = query.has('page') ? readCursor(query.get('page') ?? '', window) : window.from;
    const buckets: { day: number; results: unknown[] }[] = [];
    let day = first;
    for (; day < window.to && buckets.length < limit; day += DAY_MS)
      buckets.push({ day, results: route.build(this.#source, { day, groupBy }) });
    const more = day < window.to;
    const next = more ? cursor(day) : null;
    const page =
      route.wire === 'openai'
        ? {
            object: 'page',
            data: buckets.map((b) => ({
              object: 'bucket',
              start_time: b.day / 1000,
              end_time: (b.day + DAY_MS) / 1000,
              results: b.results,
            })),
            has_more: more,
            next_page: next,
          }
        : {
            data: buckets.map((b) => ({
              starting_at: isoSeconds(b.day),
              ending_at: isoSeconds(b.day + DAY_MS),
              results: b.results,
            })),
            has_more: more,
            next_page: next,
          };
    return stringify(page);
  }

  #authorize(wire: Wire, headers: IncomingHttpHeaders): void {
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    const header = headers['x-api-key'];
    const key = (typeof header === 'string' && header !== '' ? header : undefined) ?? bearer;
    const message =
      wire === 'anthropic'
        ? key === undefined
          ? 'x-api-key header is required'
          : 'invalid x-api-key'
        : key === undefined
          ? "You didn't provide an API key. Provide your admin API key in an Authorization header using Bearer auth."
          : 'Incorrect API key provided. Admin API endpoints need an admin key.';
    if (key === undefined || (this.#adminKey !== null && key !== this.#adminKey))
      throw new PertokenError('unauthorized', message);
  }
}

interface Window {
  from: number;
  to: number;
}

const dayOf = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;
/** Without an end, reports run to the end of today (UTC). */
const endOfToday = (now: number): number => dayOf(now) + DAY_MS;
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

function openaiWindow(query: URLSearchParams, now: number): Window {
  const seconds = (name: string): number | null => {
    const v = query.get(name);
    if (v === null) return null;
    if (!/^\d{1,11}$/.test(v)) throw invalidInput(name, `expected Unix seconds, got "${v}"`);
    return Number(v) * 1000;
  };
  const start = seconds('start_time');
  if (start === null) throw invalidInput('start_time', 'Missing required parameter: start_time');
  return checked({ from: dayOf(start), to: seconds('end_time') ?? endOfToday(now) }, 'end_time');
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function anthropicWindow(query: URLSearchParams, now: number): Window {
  const instant = (name: string): number | null => {
    const v = query.get(name);
    if (v === null) return null;
    const ms = RFC3339.test(v) ? Date.parse(v) : Number.NaN;
    if (!Number.isFinite(ms)) throw invalidInput(name, `expected an RFC 3339 date-time, got "${v}"`);
    return ms;
  };
  const start = instant('starting_at');
  if (start === null) throw invalidInput('starting_at', 'starting_at: Field required');
  // Buckets that end before ending_at: a partial last day is left out.
  const end = instant('ending_at');
  return checked({ from: dayOf(start), to: end === null ? endOfToday(now) : dayOf(end) }, 'ending_at');
}

function checked(window: Window, param: string): Window {
  if (window.to < window.from) throw invalidInput(param, 'the window ends before it starts');
  return window;
}

function readLimit(value: string | null, max: number): number {
  if (value === null) return Math.min(DEFAULT_LIMIT, max);
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw invalidInput('limit', `must be an integer from 1 to ${max}`);
  return n;
}

/** OpenAI repeats the key (`group_by=a&group_by=b`), Anthropic brackets it (`group_by[]=a`): both are read. */
function readGroupBy(query: URLSearchParams, route: AdminRoute): ReadonlySet<string> {
  const values = [...query.getAll('group_by'), ...query.getAll('group_by[]')];
  for (const v of values)
    if (!route.groupBy.includes(v)) throw invalidInput('group_by', `"${v}" is not one of ${route.groupBy.join(', ')}`);
  return new Set(values);
}

/** Opaque to clients; here, the base64 of the next bucket's start, like Anthropic's own cursors. */
function cursor(day: number): string {
  return `page_${Buffer.from(new Date(day).toISOString()).toString('base64')}`;
}

function readCursor(page: string, window: Window): number {
  const text = page.startsWith('page_') ? Buffer.from(page.slice(5), 'base64').toString('utf8') : '';
  const day = /^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(day) || day < window.from || day >= window.to)
    throw invalidInput('page', 'not a page cursor of this window');
  return day;
}

const RAW = /"\\u0000raw:(-?\d+(?:\.\d+)?)\\u0000"/g;

/** JSON text with each RawNumber written as its digits (JSON.stringify escapes the NUL markers). */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v instanceof RawNumber ? `\u0000raw:${v.text}\u0000` : v,
  ).replace(RAW, '$1');
}
