import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createPriceBook } from '../pricing/index.js';
import { attribute } from './attribute.js';
import { compilePools } from './pools.js';
import { buildStatement, type ChargebackJson } from './statement.js';
import { escapeHtml, statementHtml } from './statement-html.js';
import { dollars, identityOf } from './statement-render.js';
import { attributionConfig, rowsSource, type TimedRow } from './testing/usage.js';
import { monthWindow } from './window.js';

/** Names from callers: the ledger refuses these for a tenant, but a statement fetched with --url is anyone's JSON. */
const EVIL_TENANT = '<img src=x onerror=alert(1)>';
const EVIL_MODEL = 'ft:gpt-4o-mini:"acme&co"::</td><script>alert(2)</script>';

const config = attributionConfig({
  gpu_pools: [
    {
      name: 'h100-east',
      gpu: 'h100-sxm',
      gpus: 2,
      rates: [{ from: '2026-10-01', usd_per_gpu_hour: '2.99' }],
      serves: ['acme-vllm'],
      capacity: { output_tokens_per_s: 2000, input_tokens_per_s: 20000 },
      idle: 'line',
    },
  ],
  shared_costs: [{ name: 'observability', usd: 1200, per: 'month', from: '2026-10-01', allocate: 'by_cost' }],
  plans: [{ tenant: 'acme', markup_pct: 20 }],
});

const ROWS: TimedRow[] = [
  {
    at: '2026-10-03T10:00:00Z',
    tenant: 'acme',
    project: 'search',
    provider: 'openai',
    model: 'gpt-4o-2024-08-06',
    tokens: { input: 1_000_000, output: 100_000 },
    costNano: 3_500_000_000n,
  },
  { at: '2026-10-04T10:00:00Z', tenant: 'acme', provider: 'acme-vllm', tokens: { input: 5_000_000, output: 900_000 } },
  {
    at: '2026-10-05T10:00:00Z',
    tenant: 'beta',
    project: 'support',
    provider: 'openai',
    model: EVIL_MODEL,
    tokens: { input: 2_000_000 },
    costNano: 300_000_000n,
  },
  { at: '2026-10-06T10:00:00Z', tenant: EVIL_TENANT, provider: 'openai', tokens: { input: 10 }, costNano: 25n },
];

async function sample(tenant: string | null = null): Promise<ChargebackJson> {
  const a = await attribute(monthWindow('2026-10'), {
    pools: compilePools(config.gpu_pools, []),
    sharedCosts: config.shared_costs,
    priceBook: createPriceBook(),
    usage: rowsSource(ROWS),
  });
  return buildStatement(a, config.plans, { period: '2026-10', tenant });
}

const GENERATED = new Date('2026-11-02T08:30:00Z');
/** Every element a statement uses: none that loads or runs anything (img, link, script, iframe, object). */
const ELEMENTS = new Set(
  'html head meta title style body header div h1 h2 h3 dl dt dd p section table thead tbody tr th td strong span'.split(
    ' ',
  ),
);
const sections = (html: string): number => html.match(/<section class="tenant[ "]/g)?.length ?? 0;

describe('statementHtml', () => {
  it('escapes every name that comes from callers', async () => {
    const html = statementHtml(await sample(), { generatedAt: GENERATED });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('</td><script');
    expect(html).toContain(escapeHtml(EVIL_TENANT));
    expect(html).toContain('ft:gpt-4o-mini:&quot;acme&amp;co&quot;::&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(escapeHtml(`<a href='x'>&"`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;');
  });

  it('is one self-contained file: inline CSS, no script, nothing fetched', async () => {
    const html = statementHtml(await sample(), { generatedAt: GENERATED });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain("content=\"default-src 'none'; style-src 'unsafe-inline'\"");
    const tags = new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase()));
    expect([...tags].filter((t) => !ELEMENTS.has(t))).toEqual([]);
    const css = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] ?? '';
    expect(css.length).toBeGreaterThan(500);
    for (const external of [/url\(/i, /@import/i, /@font-face/i]) expect(css).not.toMatch(external);
    expect(html).not.toMatch(/https?:\/\//i);
  });

  it('prints well: A4 pages, a page per tenant, header rows repeated, rows never split', async () => {
    const html = statementHtml(await sample(), { generatedAt: GENERATED });
    expect(html).toMatch(/@page \{ size: A4; margin: [^}]+\}/);
    expect(html).toContain('section.tenant { break-before: page; }');
    expect(html).toContain('thead { display: table-header-group; }');
    expect(html).toMatch(/tr, th, td \{ break-inside: avoid;/);
    expect(html).toMatch(/\.num \{ text-align: right; font-variant-numeric: tabular-nums;/);
  });

  it('has a header, a summary with totals and the identity, and one section per tenant', async () => {
    const statement = await sample();
    const html = statementHtml(statement, { generatedAt: GENERATED });
    expect(statement.tenants).toHaveLength(3);
    expect(sections(html)).toBe(3);
    expect(html).toContain('<h1>October 2026</h1>');
    expect(html).toContain('2026-10-01 00:00 UTC to 2026-11-01 00:00 UTC');
    expect(html).toContain('<dt>Generated</dt><dd>2026-11-02 08:30 UTC</dd>');
    const identity = identityOf(statement)!;
    expect(identity.holds).toBe(true);
    expect(html).toMatch(/Σ tenants <strong[^>]*>\$[\d,.]+<\/strong> \+ unallocated/);
    expect(html).toContain('✓ holds to the nano-dollar');
    // The total: to the cent, with the exact amount in its title and printed in the inputs table.
    expect(html).toContain(`<strong title="${identity.total_usd} USD">${dollars(identity.total_usd)}</strong>`);
    expect(html).toContain(`<td class="num exact">${identity.total_usd}</td>`);
    expect(html).toContain(`title="${statement.totals.cost_usd} USD">${dollars(statement.totals.cost_usd)}<`);
    for (const t of statement.tenants) {
      expect(html).toContain(`<h2>${escapeHtml(t.tenant)}</h2>`);
      expect(html).toContain(`<td class="num exact">${t.charge_usd}</td>`);
    }
  });

  it('a statement narrowed to one tenant is that tenant only, on its first page, without the others', async () => {
    const html = statementHtml(await sample('beta'), { generatedAt: GENERATED });
    expect(sections(html)).toBe(1);
    expect(html).toContain('<section class="tenant first">');
    expect(html).not.toContain('class="summary"');
    expect(html).not.toContain('Σ tenants');
    expect(html).not.toContain('<h2>acme</h2>');
    expect(html).not.toContain('gpt-4o-2024-08-06');
  });

  it('shows dollars to the cent, half-even, negatives with a sign', () => {
    expect(dollars('1234567.894999999')).toBe('$1,234,567.89');
    expect(dollars('0.005000000')).toBe('$0.00');
    expect(dollars('0.015000000')).toBe('$0.02');
    expect(dollars('-12.500000000')).toBe('-$12.50');
    expect(dollars('0.000000001')).toBe('$0.00');
  });
});

/**
 * Printed by a real browser (CI installs Chromium): a PDF with a summary page, then exactly one
 * page per tenant. Skipped locally when Chromium is absent.
 */
const CHROMIUM = '/usr/bin/chromium';
const canPrint = existsSync(CHROMIUM) || process.env.CI === 'true';
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'pertoken-statement-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function printToPdf(html: string, name: string): Promise<Buffer> {
  const file = join(dir, `${name}.html`);
  const pdf = join(dir, `${name}.pdf`);
  writeFileSync(file, html);
  await run(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // No browser-drawn date, title and file path in the margins; an own profile per run.
      '--no-pdf-header-footer',
      `--user-data-dir=${join(dir, `${name}-profile`)}`,
      `--print-to-pdf=${pdf}`,
      pathToFileURL(file).href,
    ],
    { timeout: 60_000 },
  );
  return readFileSync(pdf);
}

/** Page objects (`/Type /Page`), not the page tree (`/Type /Pages`). */
const pages = (pdf: Buffer): number => pdf.toString('latin1').match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0;

describe.runIf(canPrint)('printed to PDF by Chromium', () => {
  it('a summary page, then one page per tenant; a narrowed statement is one page', async () => {
    const statement = await sample();
    const full = await printToPdf(statementHtml(statement, { generatedAt: GENERATED }), 'full');
    expect(full.subarray(0, 4).toString('latin1')).toBe('%PDF');
    expect(pages(full)).toBe(statement.tenants.length + 1);
    const one = await printToPdf(statementHtml(await sample('acme'), { generatedAt: GENERATED }), 'one');
    expect(one.subarray(0, 4).toString('latin1')).toBe('%PDF');
    expect(pages(one)).toBe(1);
  }, 120_000);
});
