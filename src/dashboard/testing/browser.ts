import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { defaultDashboardDir } from '../index.js';

/**
 * Browser tests drive Debian's Chromium through playwright-core (no downloaded browser), against
 * the built dashboard in dist/dashboard/app: `npm test` builds it first; a test run without a build
 * builds it here once, or fails saying how to.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));

export function ensureDashboardBuilt(): void {
  if (existsSync(`${defaultDashboardDir()}index.html`)) return;
  try {
    execFileSync(
      process.execPath,
      ['node_modules/vite/bin/vite.js', 'build', '--config', 'src/dashboard/vite.config.ts'],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
  } catch (err: unknown) {
    const output = err instanceof Error && 'stderr' in err ? String(err.stderr) : String(err);
    throw new Error(`the dashboard is not built and building it failed; run \`npm run build\`:\n${output}`);
  }
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium (.ci/run installs it)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
}

/**
 * A context that records Content-Security-Policy violations and page errors; the init script runs
 * through the DevTools protocol, so the page's own CSP does not apply to it.
 */
export async function newContext(
  browser: Browser,
  options: { width?: number; height?: number; dark?: boolean } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    colorScheme: options.dark ? 'dark' : 'light',
    acceptDownloads: true,
  });
  await context.addInitScript({
    content: `window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));`,
  });
  return context;
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.__cspViolations');
}

let axeSource: string | null = null;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's serious and critical findings on the page as it stands (WCAG 2.1 A and AA). */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the protocol, not as a <script>: the page's CSP refuses inline scripts.
  await page.evaluate(axeSource);
  const violations = await page.evaluate<AxeViolation[]>(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((result) => result.violations)`,
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** `$1,234.56`: USD string rounded half away from zero to cents, as the contract shows totals. */
export function dollars(usd: string): string {
  const m = /^(-)?(\d+)\.?(\d*)$/.exec(usd);
  if (m === null) throw new Error(`not a USD amount: ${usd}`);
  const nano = BigInt(m[2] as string) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0').slice(0, 9));
  const cents = (nano + 5_000_000n) / 10_000_000n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${m[1] && cents !== 0n ? '-' : ''}$${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}
