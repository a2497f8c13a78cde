/**
 * Full cost and chargeback sections of pertoken.yaml (DESIGN §3): GPU pools as cost sources,
 * shared and fixed costs, and the price plans tenants are charged on. Amounts stay decimal strings
 * here; attribution/ turns them into nano-USD exactly.
 */
import { z } from 'zod';
import { TOKEN_BUCKETS } from '../usage/index.js';
import { bucketPrices, checkUnique, dayOrInstant, decimal, dimId, name, usd } from './primitives.js';

export const POOL_PRICING = ['on_demand', 'reserved', 'spot'] as const;
export const IDLE_MODES = ['line', 'weighted', 'even'] as const;

const poolRate = z
  .object({
    from: dayOrInstant,
    /** USD per GPU-hour; every provisioned hour is paid, busy or idle. */
    usd_per_gpu_hour: decimal,
    pricing: z.enum(POOL_PRICING).default('on_demand'),
    /** GPUs provisioned from `from` on, when the pool was resized (default: the pool's `gpus`). */
    gpus: z.number().int().positive().max(100_000).optional(),
  })
  .strict();

const measuredCapacity = z
  .object({
    output_tokens_per_s: decimal,
    input_tokens_per_s: decimal.default('0'),
  })
  .strict();

/** Capacity from the roofline estimator (`pertoken estimate`) for the pool's `gpu` × `gpus`. */
const estimatedCapacity = z
  .object({
    estimate: z
      .object({
        model: z.string().min(1).max(200),
        precision: z.string().min(1).max(16).default('bf16'),
        /** Mean prompt and completion lengths of the traffic, in tokens. */
        input_tokens: z.number().int().positive().max(10_000_000).default(1000),
        output_tokens: z.number().int().positive().max(10_000_000).default(1000),
      })
      .strict(),
  })
  .strict();

const capacity = z.union([measuredCapacity, estimatedCapacity]);

/** Live serving telemetry: the engines' Prometheus endpoints (vLLM, TGI, SGLang). */
const poolTelemetry = z
  .object({
    urls: z
      .array(z.url({ protocol: /^https?$/ }))
      .min(1)
      .max(64),
    interval_ms: z.number().int().min(1000).max(3_600_000).default(15_000),
    timeout_ms: z.number().int().min(100).max(60_000).default(2_000),
  })
  .strict();

export const gpuPoolSchema = z
  .object({
    name,
    gpu: z.string().min(1).max(64).optional(),
    gpus: z.number().int().positive().max(100_000),
    /** Effective-dated, sorted by `from`; the pool is provisioned from the first rate on. */
    rates: z.array(poolRate).min(1).max(1000),
    /** Until when the pool is provisioned (exclusive); open-ended when absent. */
    to: dayOrInstant.optional(),
    /** Price-book providers (upstream `provider:` ids) whose events this pool served. */
    serves: z.array(name).min(1).max(64),
    /** Whole-pool throughput at full load; absent: the pool `pertoken bench --save-pool` stored under this name. */
    capacity: capacity.optional(),
    /** GPU time of an output token relative to an input token. */
    output_weight: decimal.default('4'),
    idle: z.enum(IDLE_MODES).default('line'),
    metrics: poolTelemetry.optional(),
  })
  .strict();

const fixedShares = z
  .object({ fixed: z.record(dimId, decimal).refine((m) => Object.keys(m).length > 0, 'name at least one tenant') })
  .strict();

export const sharedCostSchema = z
  .object({
    name,
    usd,
    /** `month`: usd every calendar month (UTC) from `from`; `one_off`: usd once, on `from`. */
    per: z.enum(['month', 'one_off']).default('month'),
    from: dayOrInstant,
    to: dayOrInstant.optional(),
    allocate: z.union([z.enum(['by_cost', 'by_tokens', 'even']), fixedShares]).default('by_cost'),
    /** Tenants sharing it; default: every tenant with usage in the period. */
    tenants: z.array(dimId).min(1).optional(),
  })
  .strict();

/** A resale rate card entry: USD per 1M tokens per bucket for the models a glob matches. */
const planRate = z
  .object({
    model: z.string().min(1).max(200),
    provider: name.optional(),
    ...bucketPrices(TOKEN_BUCKETS),
  })
  .strict();

export const planSchema = z
  .object({
    tenant: dimId,
    /** Cost-plus: every line not on the rate card is charged cost × (1 + markup_pct / 100). */
    markup_pct: decimal.optional(),
    rates: z.array(planRate).max(1000).default([]),
    /** Charge at least this much per month (a top-up line makes up the difference). */
    minimum_usd: usd.optional(),
    /** Charge included in the plan each month, consumed line by line in statement order. */
    included_usd: usd.optional(),
  })
  .strict();

export const attributionSections = {
  gpu_pools: z.array(gpuPoolSchema).default([]),
  shared_costs: z.array(sharedCostSchema).default([]),
  plans: z.array(planSchema).default([]),
};

const attributionShape = z.object(attributionSections);

/** Unique names, rates in time order, no provider served by two pools. */
export function checkPools(
  pools: readonly z.infer<typeof gpuPoolSchema>[],
  ctx: z.RefinementCtx,
  at: PropertyKey[] = [],
): void {
  checkUnique(ctx, pools, at, 'name', 'pool');
  const servedBy = new Map<string, string>();
  pools.forEach((pool, i) => {
    pool.serves.forEach((provider, j) => {
      const other = servedBy.get(provider);
      if (other !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [...at, i, 'serves', j],
          message: `provider "${provider}" is already served by pool "${other}"`,
        });
      servedBy.set(provider, pool.name);
    });
    for (let r = 1; r < pool.rates.length; r++) {
      if (Date.parse(pool.rates[r]!.from) <= Date.parse(pool.rates[r - 1]!.from))
        ctx.addIssue({
          code: 'custom',
          path: [...at, i, 'rates', r, 'from'],
          message: 'rates must be in increasing order of from',
        });
    }
    if (pool.capacity !== undefined && 'estimate' in pool.capacity && pool.gpu === undefined)
      ctx.addIssue({
        code: 'custom',
        path: [...at, i, 'gpu'],
        message: 'a catalog GPU (e.g. h100-sxm) is needed to estimate capacity',
      });
    if (pool.to !== undefined && Date.parse(pool.to) <= Date.parse(pool.rates[0]!.from))
      ctx.addIssue({ code: 'custom', path: [...at, i, 'to'], message: 'must be after the first rate' });
  });
}

/** A whole set of pools, checked as config checks them (the admin API's run-time pools). */
export const poolsSchema = z.array(gpuPoolSchema).superRefine((pools, ctx) => checkPools(pools, ctx));

/** Unique names, valid pools, one plan per tenant. */
export function checkAttribution(config: z.infer<typeof attributionShape>, ctx: z.RefinementCtx): void {
  checkPools(config.gpu_pools, ctx, ['gpu_pools']);
  checkUnique(ctx, config.shared_costs, ['shared_costs'], 'name', 'shared cost');
  config.shared_costs.forEach((cost, i) => {
    if (cost.to !== undefined && Date.parse(cost.to) <= Date.parse(cost.from))
      ctx.addIssue({ code: 'custom', path: ['shared_costs', i, 'to'], message: 'must be after from' });
    if (typeof cost.allocate === 'object' && Object.values(cost.allocate.fixed).every((s) => /^0*(\.0*)?$/.test(s)))
      ctx.addIssue({ code: 'custom', path: ['shared_costs', i, 'allocate', 'fixed'], message: 'shares sum to zero' });
  });
  checkUnique(ctx, config.plans, ['plans'], 'tenant', 'plan for tenant');
}

export type GpuPoolConfig = z.infer<typeof gpuPoolSchema>;
export type SharedCostConfig = z.infer<typeof sharedCostSchema>;
export type PlanConfig = z.infer<typeof planSchema>;
export type IdleMode = (typeof IDLE_MODES)[number];
export type PoolPricing = (typeof POOL_PRICING)[number];
