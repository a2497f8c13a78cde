import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cspViolations,
  dollars,
  ensureDashboardBuilt,
  launchChromium,
  newContext,
  screenshot,
  seriousAxeViolations,
} from './testing/browser.js';
import { ADMIN_TOKEN, startDashboardFixture, type DashboardFixture } from './testing/fixture.js';

/**
 * The dashboard as a person uses it: Debian's Chromium signs in, opens every view of a served
 * pertoken whose ledger was filled through its API, and checks that what the page shows is what
 * the API answers. No sleeps: every wait is for a selector or a URL.
 */
interface CostsJson {
  from: string;
  to: string;
  rows: Array<Record<string, unknown> & { cost_usd: string; requests: number }>;
  totals: { cost_usd: string; requests: number };
}
interface EventJson {
  id: string;
  tenant: string;
  project: string | null;
  model: string;
  cost_usd: string | null;
  price_ref: string | null;
  buckets: Record<string, number>;
  cost_lines?: Array<{ bucket: string; cost_usd: string }> | null;
}

/** In-page code is given as text: this file is type-checked without the DOM library. */
let fixture: DashboardFixture;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

async function signIn(p: Page, token: string, hash = ''): Promise<void> {
  await p.goto(`${fixture.url}/${hash}`);
  await p.fill('input[name=token]', token);
  await p.press('input[name=token]', 'Enter');
  await p.waitForSelector('nav.tabs');
}

/** Records the page's uncaught errors: a view that throws must fail the test that opened it. */
function track(p: Page): Page {
  p.on('pageerror', (err) => pageErrors.push(`${p.url()}: ${err.message}`));
  return p;
}

/** Opens a hash route and waits until its view's loading indicators are gone. */
async function open(p: Page, hash: string, view: string): Promise<void> {
  await p.goto(`${fixture.url}/${hash}`);
  await settle(p, view);
}

async function settle(p: Page, view: string): Promise<void> {
  await p.waitForSelector(`[data-testid=view-${view}]`);
  try {
    await p.waitForSelector('.state.loading', { state: 'detached' });
  } catch (err: unknown) {
    const still = await p.locator('.state.loading').allInnerTexts();
    throw new Error(`${view} at ${p.url()} still shows ${JSON.stringify(still)}`, { cause: err });
  }
}

async function text(p: Page, selector: string): Promise<string> {
  return (await p.locator(selector).first().innerText()).trim();
}

beforeAll(async () => {
  ensureDashboardBuilt();
  fixture = await startDashboardFixture();
  browser = await launchChromium();
  context = await newContext(browser);
  page = await context.newPage();
  track(page);
  await signIn(page, ADMIN_TOKEN);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fixture?.close();
});

describe('dashboard: signed in with the admin token', () => {
  it('opens on the executive view, this calendar month to date in UTC, with the API total as $1,234.56', async () => {
    await open(page, '', 'executive');
    const view = page.locator('[data-testid=view-executive]');
    const from = await view.getAttribute('data-from');
    const monthStart = `${new Date().toISOString().slice(0, 7)}-01T00:00:00.000Z`;
    expect(from).toBe(monthStart);
    const to = (await view.getAttribute('data-to')) ?? '';
    const api = await fixture.api<CostsJson>(`/api/v1/costs?from=${from}&to=${to}`);
    const shown = await text(page, '[data-testid=total-spend]');
    expect(shown).toMatch(/^\$\d{1,3}(,\d{3})*\.\d{2}$/);
    expect(shown).toBe(dollars(api.totals.cost_usd));
    expect(await text(page, '[data-testid=total-requests]')).toBe(api.totals.requests.toLocaleString('en-US'));
    expect(pageErrors).toEqual([]);
  });

  it('shows the API’s numbers on the executive view: top tenants, and a series per day', async () => {
    await open(page, '#/executive?range=30d', 'executive');
    const view = page.locator('[data-testid=view-executive]');
    const window = `from=${await view.getAttribute('data-from')}&to=${await view.getAttribute('data-to')}`;
    const total = await fixture.api<CostsJson>(`/api/v1/costs?${window}`);
    expect(await text(page, '[data-testid=total-spend]')).toBe(dollars(total.totals.cost_usd));

    const tenants = await fixture.api<CostsJson>(`/api/v1/costs?${window}&group_by=tenant`);
    const ranked = [...tenants.rows].sort((a, b) => Number(b.cost_usd) - Number(a.cost_usd));
    const rows = page.locator('[data-testid=breakdown-row]');
    expect(await rows.count()).toBe(ranked.length);
    const first = rows.first().locator('td');
    expect(await first.nth(0).innerText()).toBe(ranked[0]?.tenant);
    expect(await first.nth(3).innerText()).toBe(ranked[0]?.requests.toLocaleString('en-US'));
    expect(await page.locator('[data-testid=top-tenant]').getAttribute('data-points')).toBe(String(ranked.length));

    const series = await fixture.api<CostsJson>(`/api/v1/costs?${window}&group_by=day,model`);
    const days = new Set(series.rows.map((r) => r.day));
    expect(await page.locator('[data-testid=unit-cost-chart]').getAttribute('data-points')).toBe(String(days.size));
    expect(Number(await page.locator('[data-testid=unit-cost-chart]').getAttribute('data-series'))).toBeGreaterThan(0);
  });

  it('renders every view from its API, with no serious axe findings and no CSP violation', async () => {
    const alerts = await fixture.api<{ alerts: unknown[] }>('/api/v1/alerts?state=all');
    const firing = await fixture.api<{ alerts: unknown[] }>('/api/v1/alerts?state=firing');
    const budgets = await fixture.api<{
      budgets: Array<{ id: string; spent_usd: string; limit_usd: string | null; limit_tokens?: number }>;
    }>('/api/v1/budgets');
    const month = new Date().toISOString().slice(0, 7);
    const statement = await fixture.api<{ tenants: unknown[]; totals: { cost_usd: string } }>(
      `/api/v1/chargeback?period=${month}`,
    );
    const pools = await fixture.api<{ pools: unknown[] }>('/api/v1/pools');
    const events = await fixture.api<{ events: EventJson[] }>('/api/v1/events?limit=50');
    const checks: Record<string, () => Promise<void>> = {
      executive: async () => {
        // Hovering shows the charts' tooltips and legends: they too must live within the CSP.
        const bars = page.locator('[data-testid=top-tenant] canvas').first();
        const box = await bars.boundingBox();
        // On the first bar: just right of the axis labels, in the top row.
        await bars.hover({ position: { x: 110, y: Math.min(24, (box?.height ?? 48) / 2) } });
        await page.locator('[data-testid=unit-cost-chart] .u-over').hover();
      },
      oncall: async () => {
        const view = page.locator('[data-testid=view-oncall]');
        const window = `from=${await view.getAttribute('data-from')}&to=${await view.getAttribute('data-to')}`;
        const api = await fixture.api<CostsJson>(`/api/v1/costs?${window}`);
        expect(await text(page, '[data-testid=oncall-spend]')).toBe(dollars(api.totals.cost_usd));
        expect(await text(page, '[data-testid=firing-count]')).toBe(String(firing.alerts.length));
        // Burn rate is of a USD limit: a token allowance alone has no row here.
        const usd = budgets.budgets.filter((b) => b.limit_usd !== null);
        expect(usd.length).toBe(budgets.budgets.length - 1);
        expect(await page.locator('[data-testid=burn-row]').count()).toBe(usd.length);
        // One bar per hour of the last 24 hours (25 buckets when the window starts mid-hour).
        const hours = Number(await page.locator('[data-testid=spend-rate-chart]').getAttribute('data-points'));
        expect(hours === 24 || hours === 25).toBe(true);
      },
      debug: async () => {
        const rows = page.locator('[data-testid=event-row]');
        expect(await rows.count()).toBe(events.events.length);
        expect(await rows.first().locator('[data-testid=event-link]').getAttribute('href')).toContain(
          `#/request/${events.events[0]?.id}`,
        );
      },
      budgets: async () => {
        expect(await page.locator('[data-testid=budget-row]').count()).toBe(budgets.budgets.length);
        const first = budgets.budgets[0];
        const row = page.locator('[data-testid=budget-row]', { hasText: first?.id ?? '' });
        expect(await row.innerText()).toContain(dollars(first?.spent_usd ?? '0'));
        // A token allowance shows its tokens, spent of allowed.
        const tokens = budgets.budgets.find((b) => b.id === 'acme-sonnet-tokens');
        expect(tokens?.limit_tokens).toBe(50_000_000);
        const tokenRow = page.locator('[data-testid=budget-row]', { hasText: 'acme-sonnet-tokens' });
        expect(await tokenRow.innerText()).toContain('/ 50M');
        expect(await page.locator('[data-testid=key-row]').count()).toBe(3);
      },
      chargeback: async () => {
        // ECharts' default axis tooltip is HTML with style attributes: hovering proves it stays within the CSP.
        const chart = page.locator('[data-testid=chargeback-chart] canvas').first();
        const box = await chart.boundingBox();
        await chart.hover({ position: { x: (box?.width ?? 600) / 6, y: (box?.height ?? 300) * 0.8 } });
        expect(await text(page, '[data-testid=chargeback-total]')).toBe(dollars(statement.totals.cost_usd));
        expect(await page.locator('[data-testid=chargeback-row]').count()).toBe(statement.tenants.length);
      },
      reconciliation: async () => {
        const to = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString().slice(0, 10);
        const from = new Date(Date.parse(to) - 7 * 86_400_000).toISOString().slice(0, 10);
        const api = await fixture.api<{ status: string; rows: unknown[] }>(
          `/api/v1/reconciliation?from=${from}&to=${to}&threshold_pct=0.5`,
        );
        expect(await text(page, '[data-testid=reconciliation-status]')).toBe(api.status);
        expect(await page.locator('[data-testid=reconciliation-row]').count()).toBe(api.rows.length);
        // The fixture bills one line 7% over: hiding the matches leaves the gaps.
        await page.getByLabel(/Hide rows that match/).check();
        await page.waitForURL(/hide=match/);
        const gaps = (api.rows as Array<{ explanation: { code: string } }>).filter(
          (r) => r.explanation.code !== 'match',
        );
        expect(gaps.length).toBeGreaterThan(0);
        expect(await page.locator('[data-testid=reconciliation-row]').count()).toBe(gaps.length);
      },
      alerts: async () => {
        expect(await text(page, '[data-testid=alert-count]')).toBe(String(alerts.alerts.length));
        expect(await page.locator('[data-testid=alert-row]').count()).toBe(alerts.alerts.length);
      },
      pools: async () => {
        expect(await page.locator('[data-testid=pool-row]').count()).toBe(pools.pools.length);
      },
    };
    expect(alerts.alerts.length).toBeGreaterThan(0);
    for (const [view, check] of Object.entries(checks)) {
      await open(page, `#/${view}`, view);
      await check();
      expect({ view, axe: await seriousAxeViolations(page) }).toEqual({ view, axe: [] });
      expect({ view, csp: await cspViolations(page) }).toEqual({ view, csp: [] });
      await screenshot(page, view);
    }
    expect(pageErrors).toEqual([]);
  });

  it('drills down tenant → project → model → day → events → one request, and shows its cost lines', async () => {
    await open(page, '#/executive?range=30d', 'executive');
    const path: string[] = [];
    for (const level of ['tenant', 'project', 'model']) {
      const link = page.locator('[data-testid=breakdown-row] [data-testid=drill-link]').first();
      const value = await link.innerText();
      path.push(value);
      await link.click();
      await page.waitForURL(
        new RegExp(`[?&]${level}=${encodeURIComponent(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
      await settle(page, 'executive');
    }
    // At the day level: the newest day with spend opens its events in Debug.
    const day = page.locator('[data-testid=breakdown-row] [data-testid=drill-link]').first();
    const dayText = await day.innerText();
    expect(dayText).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await day.click();
    await settle(page, 'debug');
    const [tenant, project, model] = path;
    const api = await fixture.api<{ events: EventJson[] }>(
      `/api/v1/events?limit=50&from=${dayText}&to=${nextDay(dayText)}&filter%5Btenant%5D=${tenant}&filter%5Bproject%5D=${project}&filter%5Bmodel%5D=${encodeURIComponent(model ?? '')}`,
    );
    const rows = page.locator('[data-testid=event-row]');
    expect(await rows.count()).toBe(api.events.length);
    expect(api.events.length).toBeGreaterThan(0);
    for (const e of api.events) expect([e.tenant, e.project, e.model]).toEqual([tenant, project, model]);
    await screenshot(page, 'drilldown-events');

    await rows.first().locator('[data-testid=event-link]').click();
    await settle(page, 'request');
    const event = await fixture.api<EventJson>(`/api/v1/events/${api.events[0]?.id}`);
    expect(await text(page, '[data-testid=event-id]')).toBe(event.id);
    expect(await text(page, '[data-testid=price-ref]')).toBe(event.price_ref ?? 'no price (unpriced)');
    const lines = page.locator('[data-testid=cost-line]');
    const buckets = Object.entries(event.buckets);
    expect(await lines.count()).toBe(buckets.length);
    for (const [bucket, tokens] of buckets) {
      const line = page.locator('[data-testid=cost-line]', { hasText: bucket }).first();
      expect(await line.locator('td').nth(1).innerText()).toBe(tokens.toLocaleString('en-US'));
    }
    // Priced by the book, the request shows the API's cost lines, each to the nano-dollar.
    if (event.cost_lines) expect(event.cost_lines.length).toBe(buckets.length);
    for (const l of event.cost_lines ?? []) {
      const line = page.locator('[data-testid=cost-line]', { hasText: l.bucket }).first();
      expect(await line.locator('td').last().innerText()).toBe(fineDollars(l.cost_usd));
    }
    const cost = await text(page, '[data-testid=request-cost]');
    expect(cost).toBe(event.cost_usd === null ? 'unpriced' : fineDollars(event.cost_usd));
    expect(await page.locator('[data-testid=raw-usage]').innerText()).not.toBe('');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'request');

    // Back to the events, at the same page.
    await page.locator('a.back-link').click();
    await settle(page, 'debug');
    expect(await page.locator('[data-testid=event-row]').count()).toBe(api.events.length);
  });

  it('keeps all state in the URL: a deep link reloads into the same page of events, and Back works', async () => {
    const all = await fixture.api<{ events: EventJson[] }>('/api/v1/events?limit=50&filter%5Btenant%5D=beta');
    await open(page, '#/debug?tenant=beta&limit=25', 'debug');
    expect(await page.locator('[data-testid=filter-tenant]').inputValue()).toBe('beta');
    await page.locator('[data-testid=page-next]').click();
    await page.waitForURL(/cursor=/);
    await settle(page, 'debug');
    const firstOfPage2 = async (): Promise<string | null> =>
      page.locator('[data-testid=event-row] [data-testid=event-link]').first().getAttribute('href');
    expect(await firstOfPage2()).toContain(`#/request/${all.events[25]?.id}`);
    const deep = page.url();

    await page.reload();
    await settle(page, 'debug');
    expect(page.url()).toBe(deep);
    expect(await firstOfPage2()).toContain(`#/request/${all.events[25]?.id}`);
    expect(await page.locator('[data-testid=filter-tenant]').inputValue()).toBe('beta');

    await page.goBack();
    await settle(page, 'debug');
    expect(page.url()).not.toContain('cursor=');
    expect(await firstOfPage2()).toContain(`#/request/${all.events[0]?.id}`);

    // A shared link opened in a new tab asks for the token (it lives in one tab), then lands in the same state.
    const other = track(await context.newPage());
    await other.goto(deep);
    await other.fill('input[name=token]', ADMIN_TOKEN);
    await other.press('input[name=token]', 'Enter');
    await settle(other, 'debug');
    expect(other.url()).toBe(deep);
    expect(
      await other.locator('[data-testid=event-row] [data-testid=event-link]').first().getAttribute('href'),
    ).toContain(all.events[25]?.id ?? '-');
    await other.close();
  });

  it('computes calendar ranges in the chosen zone (custom days in Asia/Kolkata, UTC+5:30)', async () => {
    const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const [from, to] = [day(-2), day(-1)];
    const asked = page.waitForRequest((r) => r.url().includes('/api/v1/events?'));
    await page.goto(`${fixture.url}/#/debug?range=custom&from=${from}&to=${to}&tz=Asia/Kolkata`);
    const url = new URL((await asked).url());
    const midnight = (d: string): string => new Date(Date.parse(`${d}T00:00:00Z`) - 5.5 * 3_600_000).toISOString();
    expect(url.searchParams.get('from')).toBe(midnight(from));
    expect(url.searchParams.get('to')).toBe(midnight(nextDay(to)));
    await settle(page, 'debug');
    expect(await page.locator('[data-testid=range-from]').inputValue()).toBe(from);
    expect(await page.locator('thead th').first().innerText()).toContain('ASIA/KOLKATA');
  });

  it('the filter form applies every dimension with Enter and pages from the first event', async () => {
    await open(page, '#/debug', 'debug');
    await page.fill('[data-testid=filter-tenant]', 'acme');
    await page.fill('[data-testid=filter-model]', 'gpt-4o');
    await page.press('[data-testid=filter-model]', 'Enter');
    await page.waitForURL(/model=gpt-4o/);
    await settle(page, 'debug');
    const api = await fixture.api<{ events: EventJson[] }>(
      '/api/v1/events?limit=50&filter%5Btenant%5D=acme&filter%5Bmodel%5D=gpt-4o',
    );
    expect(await page.locator('[data-testid=event-row]').count()).toBe(api.events.length);
    for (const row of await page.locator('[data-testid=event-row]').all()) {
      expect(await row.locator('td').nth(1).innerText()).toBe('acme');
      expect(await row.locator('td').nth(4).innerText()).toBe('gpt-4o');
    }
  });

  it('downloads a table as CSV with the rows shown', async () => {
    await open(page, '#/budgets', 'budgets');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid=budgets-table] [data-testid=csv-download]').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^pertoken-budgets-\d{4}-\d{2}-\d{2}\.csv$/);
    const stream = await download.createReadStream();
    let csv = '';
    for await (const chunk of stream) csv += String(chunk);
    const lines = csv.trim().split('\r\n');
    const budgets = await fixture.api<{
      budgets: Array<{ id: string; spent_usd: string; limit_usd: string | null; limit_tokens?: number }>;
    }>('/api/v1/budgets');
    expect(lines[0]).toContain('Budget,Scope');
    expect(lines.length).toBe(budgets.budgets.length + 1);
    // The CSV keeps the API's exact amounts, not the rounded display.
    for (const b of budgets.budgets) expect(csv).toContain(b.spent_usd);
  });

  it('is keyboard operable: the nav is reached with Tab and followed with Enter', async () => {
    await open(page, '#/executive', 'executive');
    await page.locator('[data-testid=nav-executive]').focus();
    await page.keyboard.press('Tab');
    expect(
      await page.evaluate<string | null>(
        "document.activeElement && document.activeElement.getAttribute('data-testid')",
      ),
    ).toBe('nav-oncall');
    await page.keyboard.press('Enter');
    await settle(page, 'oncall');
  });

  it('switches to dark and back; the choice outlives a reload', async () => {
    await open(page, '#/executive', 'executive');
    const theme = (): Promise<string | undefined> =>
      page.evaluate<string | undefined>('document.documentElement.dataset.theme');
    expect(await theme()).toBe('light');
    await page.locator('[data-testid=theme-toggle]').click();
    await page.waitForSelector('html[data-theme=dark]', { state: 'attached' });
    await page.reload();
    await settle(page, 'executive');
    expect(await theme()).toBe('dark');
    await page.waitForSelector('[data-testid=top-model] canvas');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'executive-dark');
    await page.locator('[data-testid=theme-toggle]').click();
    await page.waitForSelector('html[data-theme=light]', { state: 'attached' });
  });

  it('says clearly when the API fails or cannot be reached, and when an event does not exist', async () => {
    await page.route('**/api/v1/costs?*', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({
          error: { type: 'api_error', code: 'internal', message: 'ledger query failed', param: null },
        }),
      }),
    );
    await open(page, '#/executive?range=7d', 'executive');
    const box = page.locator('[data-testid=api-error]').first();
    expect(await box.innerText()).toContain('Could not load spend (500 internal)');
    expect(await box.innerText()).toContain('ledger query failed');
    await screenshot(page, 'api-error');
    await page.unroute('**/api/v1/costs?*');

    await page.route('**/api/v1/events?*', (route) => route.abort('connectionrefused'));
    await open(page, '#/debug?tenant=gamma', 'debug');
    expect(await text(page, '[data-testid=api-error]')).toContain('could not be reached');
    await page.unroute('**/api/v1/events?*');

    await open(page, '#/request/no-such-event', 'request');
    expect(await text(page, '[data-testid=api-error]')).toContain('404');
    await open(page, '#/debug?cursor=not-a-cursor', 'debug');
    expect(await text(page, '[data-testid=api-error]')).toContain('cursor is not valid');
  });

  it('is readable at 390 px wide: no sideways scrolling of the page, tables scroll in place', async () => {
    const narrow = await newContext(browser, { width: 390, height: 844 });
    const p = track(await narrow.newPage());
    await signIn(p, ADMIN_TOKEN, '#/executive');
    await settle(p, 'executive');
    await p.waitForSelector('[data-testid=top-model] canvas');
    for (const [view, hash] of [
      ['executive', '#/executive'],
      ['debug', '#/debug'],
      ['oncall', '#/oncall'],
    ] as const) {
      await open(p, hash, view);
      expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      expect(
        await p.locator('[data-testid=total-spend], [data-testid=event-row], [data-testid=oncall-spend]').count(),
      ).toBeGreaterThan(0);
      await screenshot(p, `${view}-390px`);
    }
    expect(await seriousAxeViolations(p)).toEqual([]);
    await narrow.close();
  });
});

describe('dashboard: a tenant read key', () => {
  let keyed: BrowserContext;
  let p: Page;
  beforeAll(async () => {
    keyed = await newContext(browser);
    p = track(await keyed.newPage());
    await signIn(p, fixture.readKeys.acme ?? '', '#/executive?range=30d');
  });
  afterAll(async () => keyed?.close());

  it('sees only its tenant’s spend, budgets and statement', async () => {
    await settle(p, 'executive');
    const view = p.locator('[data-testid=view-executive]');
    const window = `from=${await view.getAttribute('data-from')}&to=${await view.getAttribute('data-to')}`;
    const acme = await fixture.api<CostsJson>(`/api/v1/costs?${window}&filter%5Btenant%5D=acme`);
    expect(await text(p, '[data-testid=total-spend]')).toBe(dollars(acme.totals.cost_usd));
    const tenants = await p.locator('[data-testid=breakdown-row] td:first-child').allInnerTexts();
    expect(tenants).toEqual(['acme']);

    await open(p, '#/budgets', 'budgets');
    const rows = await p.locator('[data-testid=budget-row]').allInnerTexts();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toContain('tenant:acme');
    expect(await p.locator('[data-testid=key-row]').count()).toBe(0);
    expect(await text(p, '[data-testid=not-configured]')).toContain('admin token only');

    await open(p, '#/chargeback', 'chargeback');
    expect(await p.locator('[data-testid=chargeback-row] td:first-child').allInnerTexts()).toEqual(['acme']);
    await screenshot(p, 'read-key-chargeback');
  });

  it('cannot reach another tenant by editing the URL', async () => {
    await open(p, '#/executive?tenant=beta', 'executive');
    expect(await text(p, '[data-testid=api-error]')).toContain('may only read tenant "acme"');
    expect(await p.locator('[data-testid=total-spend]').count()).toBe(0);
    await screenshot(p, 'read-key-refused');

    await open(p, '#/debug?tenant=beta', 'debug');
    expect(await text(p, '[data-testid=api-error]')).toContain('403');
    expect(await p.locator('[data-testid=event-row]').count()).toBe(0);

    const beta = await fixture.api<{ events: EventJson[] }>('/api/v1/events?limit=1&filter%5Btenant%5D=beta');
    await open(p, `#/request/${beta.events[0]?.id}`, 'request');
    expect(await text(p, '[data-testid=api-error]')).toContain('403');
    expect(await p.locator('[data-testid=request-cost]').count()).toBe(0);

    // Unfiltered, the explorer lists acme's events only.
    await open(p, '#/debug', 'debug');
    const tenants = new Set(await p.locator('[data-testid=event-row] td:nth-child(2)').allInnerTexts());
    expect([...tenants]).toEqual(['acme']);
    expect(pageErrors).toEqual([]);
  });
});

describe('dashboard: sign-in and credentials', () => {
  it('refuses a wrong token with the server’s reason and keeps no data on screen', async () => {
    const c = await newContext(browser);
    const p = track(await c.newPage());
    await p.goto(`${fixture.url}/#/executive`);
    await p.fill('input[name=token]', 'not-the-token');
    await p.press('input[name=token]', 'Enter');
    expect(await text(p, '[data-testid=signin-error]')).toContain('refused this token');
    expect(await p.locator('nav.tabs').count()).toBe(0);
    expect(await seriousAxeViolations(p)).toEqual([]);
    await screenshot(p, 'signin');
    await c.close();
  });

  it('returns to sign-in with a message when the key is revoked mid-session', async () => {
    const created = (await fixture.post('/api/v1/admin/keys', { tenant: 'gamma', scopes: ['read'] })) as {
      id: string;
      key: string;
    };
    const c = await newContext(browser);
    const p = track(await c.newPage());
    await signIn(p, created.key, '#/executive');
    await settle(p, 'executive');
    await fixture.delete(`/api/v1/admin/keys/${created.id}`);
    await p.goto(`${fixture.url}/#/debug`);
    await p.waitForSelector('[data-testid=signin-message]');
    expect(await text(p, '[data-testid=signin-message]')).toContain('Sign in again');
    // Signing in again lands on the page that was asked for.
    await p.fill('input[name=token]', ADMIN_TOKEN);
    await p.press('input[name=token]', 'Enter');
    await settle(p, 'debug');
    await c.close();
  });
});

describe('dashboard: an empty ledger', () => {
  let empty: DashboardFixture;
  beforeAll(async () => {
    empty = await startDashboardFixture({ empty: true });
  }, 60_000);
  afterAll(async () => empty?.close());

  it('shows zero spend and says there is nothing yet, on every view', async () => {
    const c = await newContext(browser);
    const p = track(await c.newPage());
    await p.goto(`${empty.url}/`);
    await p.fill('input[name=token]', ADMIN_TOKEN);
    await p.press('input[name=token]', 'Enter');
    await p.waitForSelector('[data-testid=view-executive]');
    await p.waitForSelector('.state.loading', { state: 'detached' });
    expect(await text(p, '[data-testid=total-spend]')).toBe('$0.00');
    expect(await p.locator('text=No spend in this range.').count()).toBe(4);
    await screenshot(p, 'empty-executive');
    const expectations: Record<string, string> = {
      debug: 'No events in the ledger yet',
      budgets: 'No budgets yet',
      alerts: 'No alerts in this range',
      chargeback: 'No spend in this month',
      pools: 'No GPU pools configured',
    };
    for (const [view, says] of Object.entries(expectations)) {
      await p.goto(`${empty.url}/#/${view}`);
      await p.waitForSelector(`[data-testid=view-${view}]`);
      await p.waitForSelector('.state.loading', { state: 'detached' });
      expect({ view, text: await p.locator('main').innerText() }).toEqual({
        view,
        text: expect.stringContaining(says),
      });
      expect(await p.locator('[data-testid=api-error]').count()).toBe(0);
    }
    expect(pageErrors).toEqual([]);
    await c.close();
  });
});

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** The request page's precision: cents from $1, 4 decimals from a cent, else 6. */
function fineDollars(usd: string): string {
  const v = Math.abs(Number(usd));
  if (v >= 1 || v === 0) return dollars(usd);
  const digits = v >= 0.01 ? 4 : 6;
  const scale = 10n ** BigInt(9 - digits);
  const [whole = '0', frac = ''] = usd.replace('-', '').split('.');
  const nano = BigInt(whole) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
  const scaled = (nano + scale / 2n) / scale;
  const unit = 10n ** BigInt(digits);
  return `$${(scaled / unit).toString()}.${(scaled % unit).toString().padStart(digits, '0')}`;
}
