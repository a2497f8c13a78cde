import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type BillingAccountConfig } from '../../config/index.js';
import { DEMO_PROJECT_ID, startDemoUpstream, type DemoUpstream } from '../../demo/index.js';
import { postJson } from '../../demo/testing/client.js';
import { PertokenError } from '../../errors.js';
import { createSqliteStore, type LedgerStore } from '../../ledger/index.js';
import { pullBilling, PULL_STATE_FILE, type PullOptions } from './index.js';

/** Pulls against the demo upstream's Admin API: what it served comes back as billing rows, exactly. */

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const window = { from: new Date(today), to: new Date(today + DAY), now: new Date(today + 2 * DAY) };
const served = { input: 0, output: 0, aInput: 0, aOutput: 0 };
let costsCalls = 0;
let up: DemoUpstream;

beforeAll(async () => {
  up = await startDemoUpstream({
    seed: 3,
    ttftMs: 0,
    itlMs: 0,
    adminKey: 'sk-admin',
    // The first costs request of the run is rate limited (retry-after: 1).
    script: (ctx) => (ctx.path === '/v1/organization/costs' && costsCalls++ === 0 ? ['status:429'] : []),
  });
  for (const content of ['alpha', 'beta gamma', 'delta epsilon zeta']) {
    const chat = await postJson(`${up.url}/v1/chat/completions`, {
      model: 'gpt-4o',
      messages: [{ role: 'user', content }],
    });
    const u = (chat.json as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    served.input += u.prompt_tokens;
    served.output += u.completion_tokens;
    const msg = await postJson(
      `${up.url}/v1/messages`,
      { model: 'claude-sonnet-4-0', max_tokens: 80, messages: [{ role: 'user', content }] },
      { 'anthropic-version': '2023-06-01', 'x-api-key': 'k' },
    );
    const m = (msg.json as { usage: { input_tokens: number; output_tokens: number } }).usage;
    served.aInput += m.input_tokens;
    served.aOutput += m.output_tokens;
  }
});
afterAll(() => up.close());

let dir: string;
let store: LedgerStore;
const sleeps: number[] = [];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-pull-'));
  store = createSqliteStore({ path: join(dir, 'ledger.sqlite'), checkpoint: 'inline' });
  await store.migrate();
  sleeps.length = 0;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const accounts = (key = 'sk-admin'): readonly BillingAccountConfig[] =>
  parseConfig({
    billing_accounts: [
      {
        provider: 'openai',
        project_id: DEMO_PROJECT_ID,
        tenant: 'acme',
        project: 'chat',
        admin_key: key,
        base_url: `${up.url}/v1`,
      },
      {
        provider: 'anthropic',
        workspace_id: null,
        tenant: 'acme',
        project: 'support',
        admin_key: key,
        base_url: up.url,
      },
    ],
  }).billing_accounts;

const pull = (extra: Partial<PullOptions> = {}) =>
  pullBilling({
    store,
    accounts: accounts(),
    dataDir: dir,
    ...window,
    retry: { sleep: async (ms) => void sleeps.push(ms) },
    ...extra,
  });

const tokens = async (source: string, bucket: string): Promise<bigint> =>
  (await store.queryBillingRows({ from: new Date(today), to: new Date(today + DAY), source }))
    .filter((r) => r.bucket === bucket)
    .reduce((n, r) => n + (r.quantity ?? 0n), 0n);

describe('pullBilling against the demo Admin API', () => {
  it('imports what the demo served, tokens exactly, mapped to tenants; a 429 is waited out', async () => {
    const summary = await pull();
    expect(summary.reports.map((r) => [r.account, r.format, r.from, r.import?.rejected.length])).toEqual([
      [`openai/${DEMO_PROJECT_ID}`, 'openai-usage', window.from.toISOString().slice(0, 10), 0],
      [`openai/${DEMO_PROJECT_ID}`, 'openai-costs', window.from.toISOString().slice(0, 10), 0],
      ['anthropic/wrkspc_default', 'anthropic-usage', window.from.toISOString().slice(0, 10), 0],
      ['anthropic/wrkspc_default', 'anthropic-cost', window.from.toISOString().slice(0, 10), 0],
    ]);
    expect(await tokens('openai-usage', 'input')).toBe(BigInt(served.input));
    expect(await tokens('openai-usage', 'output')).toBe(BigInt(served.output));
    expect(await tokens('openai-costs', 'output')).toBe(BigInt(served.output));
    expect(await tokens('anthropic-usage', 'input')).toBe(BigInt(served.aInput));
    expect(await tokens('anthropic-usage', 'output')).toBe(BigInt(served.aOutput));
    const rows = await store.queryBillingRows({ from: new Date(today), to: new Date(today + DAY) });
    expect(rows.every((r) => r.tenant === 'acme')).toBe(true);
    const cost = rows.filter((r) => r.source === 'anthropic-cost').reduce((n, r) => n + (r.amount_nano ?? 0n), 0n);
    expect(cost).toBeGreaterThan(0n);
    // The costs page was rate limited once, and retry-after (1 s) was honoured.
    expect(summary.reports[1]?.retries).toBe(1);
    expect(sleeps).toEqual([1000]);
  });

  it('follows pagination to the end (31-day usage pages over a 40-day window)', async () => {
    const summary = await pull({ from: new Date(today - 39 * DAY) });
    expect(summary.reports.map((r) => r.pages)).toEqual([2, 1, 2, 2]);
    expect(await tokens('openai-usage', 'input')).toBe(BigInt(served.input));
  });

  it('resumes: a second pull fetches nothing new, and the state file says where it stopped', async () => {
    await pull();
    const state = JSON.parse(readFileSync(join(dir, PULL_STATE_FILE), 'utf8')) as { done: Record<string, string> };
    expect(state.done[`openai/${DEMO_PROJECT_ID}/openai-usage`]).toBe(window.from.toISOString().slice(0, 10));
    const before = up.requests;
    const again = await pull();
    expect(again.reports.every((r) => r.pages === 0 && r.import === null)).toBe(true);
    expect(up.requests).toBe(before);
  });

  it('does not mark a day still running as done', async () => {
    await pull({ now: new Date(today + 3_600_000) });
    expect(existsSync(join(dir, PULL_STATE_FILE))).toBe(false);
    expect((await pull({ now: new Date(today + 3_600_000) })).reports[0]?.pages).toBe(1);
  });

  it('names the config field of a refused admin key, in one error', async () => {
    const err = await pullBilling({ store, accounts: accounts('sk-wrong'), dataDir: dir, ...window }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PertokenError);
    expect(err).toMatchObject({ param: 'billing_accounts[0].admin_key' });
    expect((err as PertokenError).toLine()).toMatch(/^error: billing_accounts\[0\]\.admin_key: .*HTTP 401/);
  });
});
