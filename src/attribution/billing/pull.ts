/**
 * `pertoken pull`: the providers' own usage and cost reports fetched from their Admin APIs for
 * every billing account with an `admin_key`, and imported as `pertoken import` would import the
 * same pages saved to files (one batch per account and report, so the same idempotent
 * replacement applies). Windows are whole UTC days (trap T6); each report resumes after the last
 * completed day it imported (pull-state.ts). Entries sharing one key (one organisation, several
 * projects) are pulled once: the reports cover the organisation and billing_accounts maps its lines.
 */
import { billingAccountId, type BillingAccountConfig } from '../../config/index.js';
import { invalidInput, PertokenError } from '../../errors.js';
import type { Store } from '../../ledger/index.js';
import { importBilling, type BillingImportSummary } from './import.js';
import { DEFAULT_RETRY, getPage, type RetryPolicy } from './pull-http.js';
import { PullState } from './pull-state.js';
import type { BillingFormat } from './rows.js';
import { textSource, type BillingSource } from './sources.js';

const DAY_MS = 86_400_000;
/** Without --from and without a previous pull, this many days before --to. */
export const DEFAULT_LOOKBACK_DAYS = 7;
/** A report longer than this many pages is a cursor loop, not a bill. */
const MAX_PAGES = 10_000;

type PullProvider = 'openai' | 'anthropic';

interface Report {
  format: BillingFormat;
  path: string;
  params: ReadonlyArray<[string, string]>;
}

/** Public APIs (an OpenAI base ends in /v1 and an Anthropic one does not, as for upstreams). */
const BASE_URLS: Readonly<Record<PullProvider, string>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
};

/** Each report grouped by everything billing_accounts and reconciliation key on, at the largest page size. */
const REPORTS: Readonly<Record<PullProvider, readonly Report[]>> = {
  openai: [
    {
      format: 'openai-usage',
      path: '/organization/usage/completions',
      params: [
        ['group_by', 'project_id'],
        ['group_by', 'model'],
        ['group_by', 'batch'],
        ['limit', '31'],
      ],
    },
    {
      format: 'openai-costs',
      path: '/organization/costs',
      params: [
        ['group_by', 'project_id'],
        ['group_by', 'line_item'],
        ['limit', '180'],
      ],
    },
  ],
  anthropic: [
    {
      format: 'anthropic-usage',
      path: '/v1/organizations/usage_report/messages',
      params: [
        ['group_by[]', 'workspace_id'],
        ['group_by[]', 'model'],
        ['group_by[]', 'service_tier'],
        ['limit', '31'],
      ],
    },
    {
      format: 'anthropic-cost',
      path: '/v1/organizations/cost_report',
      params: [
        ['group_by[]', 'workspace_id'],
        ['group_by[]', 'description'],
        ['limit', '31'],
      ],
    },
  ],
};

export interface PullOptions {
  store: Pick<Store, 'importBillingRows'>;
  accounts: readonly BillingAccountConfig[];
  /** Where billing-pull.json is kept. */
  dataDir: string;
  /** First day (floored to UTC midnight); default the day after the last pull, else --to minus 7 days. */
  from?: Date;
  /** End, exclusive (raised to UTC midnight); default today 00:00 UTC: only completed days. */
  to?: Date;
  now?: Date;
  retry?: Partial<RetryPolicy>;
}

export interface PulledReport {
  /** `provider/account` of the first billing_accounts entry with this key. */
  account: string;
  format: BillingFormat;
  /** The window fetched (YYYY-MM-DD, `to` exclusive); null when nothing was left to fetch. */
  from: string | null;
  to: string | null;
  pages: number;
  retries: number;
  /** null when nothing was fetched. */
  import: BillingImportSummary | null;
}

export interface PullSummary {
  reports: PulledReport[];
}

interface Puller {
  index: number;
  provider: PullProvider;
  account: string;
  base: string;
  key: string;
}

export async function pullBilling(options: PullOptions): Promise<PullSummary> {
  const now = (options.now ?? new Date()).getTime();
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const today = floorDay(now);
  const to = options.to === undefined ? today : ceilDay(options.to.getTime());
  const from = options.from === undefined ? null : floorDay(options.from.getTime());
  if (from !== null && from >= to) throw invalidInput('--from', 'must be before --to (whole UTC days)');
  const state = await PullState.load(options.dataDir);
  const reports: PulledReport[] = [];
  for (const puller of pullers(options.accounts)) {
    for (const report of REPORTS[puller.provider]) {
      const stateKey = `${puller.account}/${report.format}`;
      const resume = state.resumeAt(stateKey);
      const start = Math.max(from ?? resume ?? to - DEFAULT_LOOKBACK_DAYS * DAY_MS, resume ?? Number.NEGATIVE_INFINITY);
      const base = { account: puller.account, format: report.format, pages: 0, retries: 0 };
      if (start >= to) {
        reports.push({ ...base, from: null, to: null, import: null });
        continue;
      }
      const fetched = await fetchReport(puller, report, start, to, policy);
      const sources: BillingSource[] = fetched.pages.map((text, i) =>
        textSource(`pull:${stateKey}:${day(start)}..${day(to)}:${String(i + 1).padStart(4, '0')}`, text),
      );
      const summary = await importBilling({
        store: options.store,
        accounts: options.accounts,
        format: report.format,
        sources,
        ...(options.now ? { now: options.now } : {}),
      });
      // A refused page leaves the window to fetch again; a day still running is never marked done.
      const completed = Math.min(to, today);
      if (summary.rejected.length === 0 && completed > start) await state.complete(stateKey, completed);
      reports.push({
        ...base,
        from: day(start),
        to: day(to),
        pages: fetched.pages.length,
        retries: fetched.retries,
        import: summary,
      });
    }
  }
  return { reports };
}

/** One per distinct (provider, base, key), in config order; the first entry names it. */
function pullers(accounts: readonly BillingAccountConfig[]): Puller[] {
  const out = new Map<string, Puller>();
  accounts.forEach((a, index) => {
    if (a.admin_key === undefined || (a.provider !== 'openai' && a.provider !== 'anthropic')) return;
    const base = (a.base_url ?? BASE_URLS[a.provider]).replace(/\/+$/, '');
    const id = JSON.stringify([a.provider, base, a.admin_key]);
    if (!out.has(id))
      out.set(id, {
        index,
        provider: a.provider,
        account: `${a.provider}/${billingAccountId(a)}`,
        base,
        key: a.admin_key,
      });
  });
  return [...out.values()];
}

async function fetchReport(
  puller: Puller,
  report: Report,
  start: number,
  end: number,
  policy: RetryPolicy,
): Promise<{ pages: string[]; retries: number }> {
  const window: [string, string][] =
    puller.provider === 'openai'
      ? [
          ['start_time', String(start / 1000)],
          ['end_time', String(end / 1000)],
        ]
      : [
          ['starting_at', instant(start)],
          ['ending_at', instant(end)],
        ];
  const headers: Record<string, string> =
    puller.provider === 'openai'
      ? { authorization: `Bearer ${puller.key}`, 'user-agent': 'pertoken' }
      : { 'x-api-key': puller.key, 'anthropic-version': '2023-06-01', 'user-agent': 'pertoken' };
  const pages: string[] = [];
  const seen = new Set<string>();
  let retries = 0;
  let cursor: string | null = null;
  do {
    const paging: [string, string][] = cursor === null ? [] : [['page', cursor]];
    const query = new URLSearchParams([...window, ...report.params, ...paging]);
    const page = await getPage(
      {
        url: `${puller.base}${report.path}?${query}`,
        headers,
        keyParam: `billing_accounts[${puller.index}].admin_key`,
      },
      policy,
    );
    pages.push(page.text);
    retries += page.retries;
    cursor = nextCursor(page.text, report.path);
    if (cursor !== null && (seen.has(cursor) || pages.length >= MAX_PAGES))
      throw new PertokenError('upstream_error', `${report.path}: the page cursor does not advance (${cursor})`);
    if (cursor !== null) seen.add(cursor);
  } while (cursor !== null);
  return { pages, retries };
}

/** `next_page` while `has_more` (both providers' envelope); a page that is not JSON is the importer's to refuse. */
function nextCursor(text: string, path: string): string | null {
  let page: { has_more?: unknown; next_page?: unknown } | null;
  try {
    page = JSON.parse(text) as typeof page;
  } catch {
    throw new PertokenError('upstream_error', `${path}: the answer is not JSON`);
  }
  if (page?.has_more !== true) return null;
  if (typeof page.next_page !== 'string' || page.next_page === '')
    throw new PertokenError('upstream_error', `${path}: has_more without a next_page cursor`);
  return page.next_page;
}

const floorDay = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;
const ceilDay = (ms: number): number => Math.ceil(ms / DAY_MS) * DAY_MS;
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const instant = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
