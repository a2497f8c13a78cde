import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { backendCases, type Backend } from '../counters/testing/index.js';
import { PertokenError } from '../errors.js';
import type { Attribution, UsageEvent } from '../ledger/index.js';
import { createPriceBook, formatUsd } from '../pricing/index.js';
import type { Buckets } from '../usage/index.js';
import type { AdmitRequest, RouteCandidate } from './gate.js';
import { openGovernanceStore } from './open.js';
import { Governance } from './service.js';
import type { GovernanceStore } from './store.js';
import { worstCaseCost } from './worst-case.js';

/**
 * Budgets that hold for every model, on both counter backends: unpriced models reserved and
 * charged at a fallback price (or refused), budgets and rate limits scoped by model, and token
 * allowances. Admission is driven directly (no HTTP), with the unpriced fallback fixed at
 * $10 / $100 per 1M input / output tokens so the amounts are exact.
 */
const book = createPriceBook();
const cases = await backendCases('allowances');
const FALLBACK = { input_per_mtok_usd: '10', output_per_mtok_usd: '100' };

const tenants = ['unpriced', 'refusing', 'scoped', 'dg', 'tokens', 'limited', 'chain-only'];
const budgets = [
  { id: 'unpriced-b', scope: { tenant: 'unpriced' }, period: 'total', limit_usd: '0.01' },
  { id: 'refusing-b', scope: { tenant: 'refusing' }, period: 'total', limit_usd: '1' },
  { id: 'scoped-4o', scope: { tenant: 'scoped', model: 'gpt-4o' }, period: 'total', limit_usd: '1' },
  { id: 'scoped-mini', scope: { tenant: 'scoped', model: 'gpt-4o-mini*' }, period: 'total', limit_usd: '1' },
  {
    id: 'dg-soft',
    scope: { tenant: 'dg' },
    period: 'total',
    limit_usd: '0.000001',
    action: 'downgrade',
    downgrade_to: 'gpt-4o-mini',
  },
  { id: 'dg-mini-cap', scope: { tenant: 'dg', model: 'gpt-4o-mini*' }, period: 'total', limit_usd: '0.000002' },
  { id: 'tokens-b', scope: { tenant: 'tokens' }, period: 'total', limit_tokens: 2_500 },
  { id: 'chain-only-b', scope: { tenant: 'chain-only', model: 'claude-*' }, period: 'total', limit_usd: '1' },
];

const attribution = (tenant: string): Attribution => ({
  tenant,
  project: null,
  user: null,
  feature: null,
  key_id: null,
  trace_id: null,
  tags: {},
});
const candidate = (model: string): RouteCandidate => ({ model, upstream: 'oa', provider: 'openai' });
let n = 0;
function request(tenant: string, models: string[], maxOutputTokens = 1000): AdmitRequest {
  return {
    id: `allow-${process.pid}-${++n}`,
    route: 'openai.chat',
    identity: { key_id: null, tenant: null, project: null },
    attribution: attribution(tenant),
    chain: models.map(candidate),
    replan: (model) => [candidate(model)],
    promptText: '',
    pretokenizedInputTokens: 0,
    hasNonTextInput: false,
    maxOutputTokens,
    at: new Date(),
  };
}
const event = (model: string, buckets: Buckets, cost: bigint | null): UsageEvent =>
  ({ model, provider: 'openai', time: new Date(), buckets, cost_nano: cost }) as unknown as UsageEvent;
const worst = (model: string, output: number): bigint =>
  worstCaseCost(book, {
    provider: 'openai',
    model,
    at: new Date(),
    inputTokens: 0,
    outputTokens: output,
    hasNonTextInput: false,
  }) as bigint;

async function refusal(p: Promise<unknown>): Promise<PertokenError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof PertokenError)) throw new Error(`expected a PertokenError, got ${String(err)}`);
  return err;
}

for (const backendCase of cases) {
  describe.skipIf(backendCase.skip !== null)(`budgets for every model on ${backendCase.name} counters`, () => {
    let dir: string;
    let backend: Backend;
    const opened: Array<{ governance: Governance; store: GovernanceStore }> = [];

    async function open(governance: Record<string, unknown> = {}): Promise<Governance> {
      const store = openGovernanceStore({ sqlitePath: join(dir, `gov-${opened.length}.sqlite`) });
      await store.migrate();
      const config = parseConfig({
        governance: { unpriced_fallback: FALLBACK, ...governance },
        tenants: tenants.map((id) => ({
          id,
          ...(id === 'limited' ? { model_limits: [{ model: 'gpt-4o', rpm: 1, tpm: 3_000 }] } : {}),
        })),
        budgets,
      });
      const gov = new Governance({
        config,
        store,
        counters: backend.counters,
        priceBook: book,
        ledgerCosts: async () => [],
        log: pino({ level: 'silent' }),
      });
      await gov.start();
      opened.push({ governance: gov, store });
      return gov;
    }
    const status = async (gov: Governance, id: string) =>
      (await gov.budgets(null)).find((b) => b.id === id) as Record<string, unknown>;

    let gov: Governance;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pertoken-allow-'));
      backend = await backendCase.open();
      gov = await open();
    });
    afterAll(async () => {
      for (const o of opened) {
        await o.governance.close();
        await o.store.close();
      }
      await backend.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reserves an unpriced model at the fallback price and charges its usage, so a $0.01 budget runs out', async () => {
      // 50 output tokens at $100/1M: $0.005 reserved for a model the price book does not know.
      const first = await gov.admit(request('unpriced', ['mystery-model'], 50));
      expect(first.headers).toMatchObject({
        'x-pertoken-budget-price': 'fallback',
        'x-pertoken-budget-remaining-usd': '0.005000000',
      });
      // Unpriced in the ledger (cost null), charged to the budget at $10/1M in + $100/1M out.
      await first.settle([event('mystery-model', { input: 100, output: 50, requests: 1 }, null)]);
      expect(await status(gov, 'unpriced-b')).toMatchObject({ spent_usd: '0.006000000', reserved_usd: '0.000000000' });
      const refused = await refusal(gov.admit(request('unpriced', ['mystery-model'], 50)));
      expect(refused).toMatchObject({ code: 'budget_exceeded', status: 402 });
      expect(refused.message).toMatch(/^budget "unpriced-b" is exhausted: \$0\.006000000 spent/);
      // A priced model still fits what is left.
      const priced = await gov.admit(request('unpriced', ['gpt-4o-mini'], 50));
      expect(priced.headers['x-pertoken-budget-price']).toBeUndefined();
      await priced.release();
    });

    it('refuses an unpriced model by name under `refuse`, drops an unpriced fallback, and lets token allowances bound it', async () => {
      const refusing = await open({ unpriced_models: 'refuse' });
      const err = await refusal(refusing.admit(request('refusing', ['mystery-model'])));
      expect(err).toMatchObject({ code: 'unpriced_model', status: 402, param: 'model' });
      expect(err.message).toMatch(/^model "mystery-model" has no price for provider "openai", so budget "refusing-b"/);
      const chain = await refusing.admit(request('refusing', ['gpt-4o-mini', 'mystery-model']));
      expect(chain.chain.map((c) => c.model)).toEqual(['gpt-4o-mini']);
      await chain.release();
      // Outside the USD budget's reach (another tenant) nothing is refused.
      const elsewhere = await refusing.admit(request('tokens', ['mystery-model'], 10));
      expect(elsewhere.chain.map((c) => c.model)).toEqual(['mystery-model']);
      await elsewhere.release();
    });

    it('applies a model-scoped budget only to the chain models it names, reserving their worst case', async () => {
      // Chain [mini, 4o]: each budget reserves its own model's worst case, not the dearest.
      const both = await gov.admit(request('scoped', ['gpt-4o-mini', 'gpt-4o'], 1000));
      expect(await status(gov, 'scoped-4o')).toMatchObject({ reserved_usd: formatUsd(worst('gpt-4o', 1000)) });
      expect(await status(gov, 'scoped-mini')).toMatchObject({
        reserved_usd: formatUsd(worst('gpt-4o-mini', 1000)),
      });
      // Served by a dated snapshot of gpt-4o: the plain name `gpt-4o` covers it; `gpt-4o-mini*` does not.
      await both.settle([event('gpt-4o-2024-08-06', { output: 10 }, 7_000n)]);
      expect(await status(gov, 'scoped-4o')).toMatchObject({ spent_usd: '0.000007000', reserved_usd: '0.000000000' });
      expect(await status(gov, 'scoped-mini')).toMatchObject({ spent_usd: '0.000000000', reserved_usd: '0.000000000' });
      // A chain no budget names passes without a reservation.
      const none = await gov.admit(request('chain-only', ['gpt-4o']));
      expect(none.headers['x-pertoken-budget-remaining-usd']).toBeUndefined();
      await none.settle([event('gpt-4o', { output: 10 }, 5n)]);
      expect(await status(gov, 'chain-only-b')).toMatchObject({ spent_usd: '0.000000000' });
    });

    it('holds a model-scoped budget on the model a downgrade switches to', async () => {
      // dg-soft downgrades every gpt-4o call to gpt-4o-mini; dg-mini-cap ($0.000002) then blocks it.
      const err = await refusal(gov.admit(request('dg', ['gpt-4o'], 100)));
      expect(err).toMatchObject({ code: 'budget_exceeded' });
      expect(err.message).toMatch(/^budget "dg-mini-cap" is exhausted/);
      const small = await gov.admit(request('dg', ['gpt-4o'], 1));
      expect(small.downgradedFrom).toBe('gpt-4o');
      expect(small.chain.map((c) => c.model)).toEqual(['gpt-4o-mini']);
      expect(await status(gov, 'dg-mini-cap')).toMatchObject({ reserved_usd: formatUsd(worst('gpt-4o-mini', 1)) });
      await small.release();
    });

    it('enforces a token allowance, settling actual tokens without per-call units', async () => {
      const first = await gov.admit(request('tokens', ['gpt-4o-mini'], 1000));
      expect(first.headers['x-pertoken-budget-remaining-tokens']).toBe('1500');
      expect(first.headers['x-pertoken-budget-remaining-usd']).toBeUndefined();
      await first.settle([event('gpt-4o-mini', { input: 300, cache_read: 100, output: 400, requests: 1 }, 1n)]);
      expect(await status(gov, 'tokens-b')).toMatchObject({
        limit_tokens: 2_500,
        spent_tokens: 800,
        reserved_tokens: 0,
        remaining_tokens: 1_700,
        limit_usd: null,
        spent_usd: '0.000000001',
      });
      const err = await refusal(gov.admit(request('tokens', ['gpt-4o-mini'], 2_000)));
      expect(err).toMatchObject({ code: 'budget_exceeded', status: 402 });
      expect(err.headers).toMatchObject({
        'x-pertoken-budget-id': 'tokens-b',
        'x-pertoken-budget-allowance': 'tokens',
      });
      expect(err.message).toBe(
        'budget "tokens-b" is out of tokens: 800 used and 0 reserved of its 2500-token allowance in total; this request may use up to 2000 tokens',
      );
    });

    it('applies a model-scoped rate limit to the models it names only, and settles its TPM to their tokens', async () => {
      const first = await gov.admit(request('limited', ['gpt-4o'], 1_000));
      expect(first.headers['x-ratelimit-remaining-requests']).toBe('0');
      await first.settle([event('gpt-4o-2024-08-06', { input: 10, output: 90 }, 1n)]);
      const err = await refusal(gov.admit(request('limited', ['gpt-4o'], 1_000)));
      expect(err).toMatchObject({ code: 'rate_limited' });
      expect(err.message).toBe('rate limit rpm:tenant:limited:gpt-4o reached (1 requests per minute)');
      // Other models of the tenant are not limited by it.
      for (let i = 0; i < 3; i++) {
        const other = await gov.admit(request('limited', ['gpt-4o-mini'], 1_000));
        expect(other.headers['x-ratelimit-remaining-requests']).toBeUndefined();
        await other.release();
      }
    });
  });
}
