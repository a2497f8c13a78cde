import { z } from 'zod';
import { BUDGET_ID, idSchema, KEY_ID } from '../ids.js';
import type { Bucket } from '../usage/index.js';
import { attributionSections, checkAttribution } from './attribution.js';
import { alertsSections, checkAlerts } from './alerts.js';
import { billingSections, checkBilling } from './billing.js';
import { bucketPrices, checkUnique, decimal, dimId, isoDate, name, priceValue, usd } from './primitives.js';
import { isTimeZone } from '../time-zone.js';

const positiveMs = z.number().int().positive();

const upstream = z
  .object({
    name,
    kind: z.enum(['openai', 'anthropic']),
    /** Price-book provider id; defaults to `kind` (a self-hosted server names its GPU pool here). */
    provider: name.optional(),
    base_url: z.url({ protocol: /^https?$/ }),
    api_key: z.string().optional(),
    /** Extra headers sent upstream (e.g. OpenAI-Organization); never the caller's. */
    headers: z.record(z.string(), z.string()).default({}),
    connections: z.number().int().positive().max(4096).default(256),
    timeouts: z
      .object({
        connect_ms: positiveMs.default(10_000),
        /** Until response headers: covers the model's queueing and, for non-streams, generation. */
        first_byte_ms: positiveMs.default(600_000),
        /** Longest silence between two body chunks. */
        idle_ms: positiveMs.default(300_000),
      })
      .strict()
      .default({ connect_ms: 10_000, first_byte_ms: 600_000, idle_ms: 300_000 }),
  })
  .strict();

const route = z.object({ match: z.string().min(1).max(200), upstream: name }).strict();

/** The buckets a `prices:` override may price (pricing/overrides.ts checks and applies them). */
export const OVERRIDE_PRICE_FIELDS = [
  'input',
  'output',
  'cache_read',
  'cache_write_5m',
  'cache_write_1h',
  'input_audio',
  'output_audio',
  'reasoning',
  'requests',
] as const satisfies readonly Bucket[];

const priceOverride = z
  .object({
    provider: name,
    model: z.string().min(1).max(200),
    from: isoDate,
    to: isoDate.optional(),
    discount_pct: priceValue.optional(),
    batch_discount_pct: priceValue.optional(),
    ...bucketPrices(OVERRIDE_PRICE_FIELDS),
  })
  .strict();

const server = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(4000),
    /** Largest request body accepted (images in base64 make chat bodies large). */
    max_body_bytes: z
      .number()
      .int()
      .positive()
      .default(20 * 1024 * 1024),
    /** How long SIGTERM waits for in-flight requests before closing. */
    drain_timeout_ms: positiveMs.default(30_000),
    /** A client must send its whole request head within this time (slow-header clients are cut off with 408). */
    headers_timeout_ms: positiveMs.default(30_000),
    /** ...and its whole request, body included (a trickled body is cut off with 408); streamed answers are not limited. */
    request_timeout_ms: positiveMs.default(120_000),
    /** /metrics shows spend per tenant: unset = ask for a token once one is configured; false keeps it open. */
    metrics_auth: z.boolean().optional(),
    /** A scrape credential that reads /metrics only, accepted besides the admin token. */
    metrics_token: z.string().min(16, 'must be at least 16 characters').optional(),
  })
  .strict()
  .refine((s) => s.headers_timeout_ms <= s.request_timeout_ms, {
    path: ['headers_timeout_ms'],
    message: 'must not exceed request_timeout_ms',
  })
  .default({
    host: '127.0.0.1',
    port: 4000,
    max_body_bytes: 20 * 1024 * 1024,
    drain_timeout_ms: 30_000,
    headers_timeout_ms: 30_000,
    request_timeout_ms: 120_000,
  });

const ledger = z
  .object({
    /** NORMAL survives kill -9 (the WAL lives in the OS page cache); FULL also survives power loss. */
    synchronous: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
    /** Raw events older than this many days are pruned hourly; rollups and adjustments stay forever. */
    retention_days: z.number().int().positive().max(36_500).optional(),
  })
  .strict()
  .default({ synchronous: 'NORMAL' });

const demo = z
  .object({
    ttft_ms: z.number().int().nonnegative().default(150),
    itl_ms: z.number().int().nonnegative().default(15),
  })
  .strict()
  .default({ ttft_ms: 150, itl_ms: 15 });

export const keyIdSchema = idSchema(KEY_ID);
const budgetId = idSchema(BUDGET_ID);
const perMinute = z.number().int().positive().max(1_000_000_000);
const metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 32, 'at most 32 entries');
const instant = z.iso.datetime({ offset: true });

/**
 * RPM/TPM that count only requests for some models (a glob under modelFamilyMatch: a plain name
 * also covers its dated snapshots), beside the owner's own rpm/tpm.
 */
export const modelLimitSchema = z
  .object({
    model: z.string().min(1).max(200),
    rpm: perMinute.optional(),
    tpm: perMinute.optional(),
  })
  .strict()
  .refine((l) => l.rpm !== undefined || l.tpm !== undefined, 'give rpm, tpm or both');
const modelLimits = z
  .array(modelLimitSchema)
  .max(16)
  .default([])
  .superRefine((limits, ctx) => checkUnique(ctx, limits, [], 'model', 'model limit'));

export const KEY_SCOPES = ['chat', 'completions', 'responses', 'embeddings', 'messages', 'read'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export const projectSchema = z
  .object({
    id: dimId,
    name: z.string().min(1).max(200).optional(),
    rpm: perMinute.optional(),
    tpm: perMinute.optional(),
    model_limits: modelLimits,
    metadata: metadata.default({}),
  })
  .strict();

export const tenantSchema = z
  .object({
    id: dimId,
    name: z.string().min(1).max(200).optional(),
    rpm: perMinute.optional(),
    tpm: perMinute.optional(),
    model_limits: modelLimits,
    metadata: metadata.default({}),
    projects: z.array(projectSchema).default([]),
  })
  .strict();

/** What a key may do; shared by config and POST /api/v1/admin/keys. */
export const keyGrantSchema = z.object({
  tenant: dimId,
  project: dimId.optional(),
  name: z.string().min(1).max(200).optional(),
  /** Model-call routes and `read` (the query API). Default: every model route, no `read`. */
  scopes: z.array(z.enum(KEY_SCOPES)).min(1).default(['chat', 'completions', 'responses', 'embeddings', 'messages']),
  /** Globs over the requested (or aliased-to) model; empty means every model. */
  models: z.array(z.string().min(1).max(200)).max(64).default([]),
  expires_at: instant.optional(),
  rpm: perMinute.optional(),
  tpm: perMinute.optional(),
  model_limits: modelLimits,
  metadata: metadata.default({}),
});

/** A key declared in config: its full value from the environment, or the SHA-256 hex of it. */
const configKey = keyGrantSchema
  .extend({
    id: keyIdSchema,
    key: z.string().min(40).max(256).optional(),
    key_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits')
      .optional(),
  })
  .strict()
  .superRefine((k, ctx) => {
    if ((k.key === undefined) === (k.key_sha256 === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: 'give exactly one of key (e.g. ${MY_KEY}) or key_sha256',
      });
    if (
      k.key !== undefined &&
      !(k.key.startsWith(`pt-${k.id}-`) && /^[A-Za-z0-9_-]{16,}$/.test(k.key.slice(k.id.length + 4)))
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: `must be "pt-${k.id}-" followed by at least 16 characters of A-Z a-z 0-9 _ -`,
      });
    }
  });

export const BUDGET_DIMS = ['tenant', 'project', 'key', 'user', 'feature'] as const;
export type BudgetDim = (typeof BUDGET_DIMS)[number];

/** One budget; shared by config and POST /api/v1/admin/budgets. */
export const budgetSchema = z
  .object({
    id: budgetId,
    /** Every given dimension must match the request (e.g. {tenant: acme, user: bob}). */
    scope: z
      .object({
        tenant: dimId.optional(),
        project: dimId.optional(),
        key: keyIdSchema.optional(),
        user: dimId.optional(),
        feature: dimId.optional(),
        /** Only requests served by these models count (modelFamilyMatch: a glob, or a name and its snapshots). */
        model: z.string().min(1).max(200).optional(),
      })
      .strict()
      .refine(
        (s) => Object.values(s).some((v) => v !== undefined),
        'name at least one of tenant, project, key, user, feature, model',
      ),
    period: z.enum(['day', 'week', 'month', 'total']),
    /** IANA zone of the calendar periods (weeks start on Monday). */
    tz: z.string().default('UTC').refine(isTimeZone, 'an IANA time zone such as Europe/Berlin or UTC'),
    limit_usd: usd.optional(),
    /** Allowance in tokens (every token bucket; per-call units such as requests excluded). */
    limit_tokens: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    action: z.enum(['block', 'downgrade', 'alert_only']).default('block'),
    downgrade_to: z.string().min(1).max(200).optional(),
    /** Share of the limit from which `downgrade` serves downgrade_to (default 1 = at the limit). */
    downgrade_at: z.number().positive().max(1).default(1),
    thresholds: z.array(z.number().positive().max(10)).max(16).default([0.5, 0.8, 1]),
    /** When the shared counters (Redis) are down: admit (open) or refuse with 503 (closed). */
    fail_mode: z.enum(['open', 'closed']).default('open'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.limit_usd === undefined && b.limit_tokens === undefined)
      ctx.addIssue({ code: 'custom', path: ['limit_usd'], message: 'give limit_usd, limit_tokens or both' });
    if (b.action === 'downgrade' && b.downgrade_to === undefined)
      ctx.addIssue({ code: 'custom', path: ['downgrade_to'], message: 'required when action is downgrade' });
    if (b.action !== 'downgrade' && b.downgrade_to !== undefined)
      ctx.addIssue({ code: 'custom', path: ['downgrade_to'], message: 'only allowed when action is downgrade' });
  });

const routing = z
  .object({
    /** Names clients may ask for (`fast`, `smart`) and the model each one serves. */
    aliases: z.record(z.string().min(1).max(200), z.string().min(1).max(200)).default({}),
    /** Models tried in order when the one before fails with fallback_on statuses, a timeout or a refused connection. */
    fallbacks: z.record(z.string().min(1).max(200), z.array(z.string().min(1).max(200)).min(1).max(8)).default({}),
    fallback_on: z.array(z.number().int().min(400).max(599)).default([429, 500, 502, 503, 504]),
    /** Output ceilings (glob -> tokens) for the worst-case cost of a request that sets no max_tokens. */
    max_output_tokens: z.record(z.string().min(1).max(200), z.number().int().positive()).default({}),
  })
  .strict()
  .default({ aliases: {}, fallbacks: {}, fallback_on: [429, 500, 502, 503, 504], max_output_tokens: {} });

const governance = z
  .object({
    /** auto: keys are required as soon as one exists (config or admin API); true/false force it. */
    require_keys: z.union([z.literal('auto'), z.boolean()]).default('auto'),
    /** Backstop for key/budget caches; changes are pushed to every replica through the counters. */
    cache_ttl_ms: z.number().int().positive().max(600_000).default(5_000),
    /** A budget reservation not settled by then is reclaimed (longest request you expect). */
    reservation_ttl_ms: z.number().int().positive().default(900_000),
    /** Default grace of the old secret after a rotation. */
    rotation_grace_seconds: z.number().int().nonnegative().default(86_400),
    /** RPM/TPM when the shared counters are down. */
    rate_limit_fail_mode: z.enum(['open', 'closed']).default('open'),
    /**
     * A model without a price under a budget: `reserve` reserves and charges the budget at the
     * fallback price (the ledger still records it unpriced); `refuse` refuses it (402 unpriced_model).
     */
    unpriced_models: z.enum(['reserve', 'refuse']).default('reserve'),
    /** The fallback price; default: the dearest per-token prices of the provider's (or wire's) models at the time. */
    unpriced_fallback: z.object({ input_per_mtok_usd: decimal, output_per_mtok_usd: decimal }).strict().optional(),
  })
  .strict()
  .default({
    require_keys: 'auto',
    cache_ttl_ms: 5_000,
    reservation_ttl_ms: 900_000,
    rotation_grace_seconds: 86_400,
    rate_limit_fail_mode: 'open',
    unpriced_models: 'reserve',
  });

export const configSchema = z
  .object({
    server,
    upstreams: z.array(upstream).default([]),
    routes: z.array(route).default([]),
    prices: z.array(priceOverride).default([]),
    ledger,
    demo,
    tenants: z.array(tenantSchema).default([]),
    keys: z.array(configKey).default([]),
    budgets: z.array(budgetSchema).default([]),
    routing,
    governance,
    ...attributionSections,
    ...billingSections,
    ...alertsSections,
  })
  .strict()
  .superRefine((config, ctx) => {
    checkUnique(ctx, config.upstreams, ['upstreams'], 'name', 'upstream name');
    const names = new Set(config.upstreams.map((u) => u.name));
    config.routes.forEach((r, i) => {
      if (!names.has(r.upstream))
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstream'], message: `no upstream named "${r.upstream}"` });
    });
    checkGovernance(config, ctx);
    checkAttribution(config, ctx);
    checkBilling(config, ctx);
    checkAlerts(config, ctx);
  });

/** Cross-references of the governance sections: unique ids, declared tenants and projects. */
function checkGovernance(config: z.infer<typeof governanceShape>, ctx: z.RefinementCtx): void {
  const tenants = new Map<string, Set<string>>();
  const projects = new Set<string>();
  config.tenants.forEach((t, i) => {
    if (tenants.has(t.id))
      ctx.addIssue({ code: 'custom', path: ['tenants', i, 'id'], message: `duplicate tenant "${t.id}"` });
    tenants.set(t.id, new Set(t.projects.map((p) => p.id)));
    t.projects.forEach((p, j) => {
      if (projects.has(p.id))
        ctx.addIssue({
          code: 'custom',
          path: ['tenants', i, 'projects', j, 'id'],
          message: `duplicate project "${p.id}" (project ids are global)`,
        });
      projects.add(p.id);
    });
  });
  checkUnique(ctx, config.keys, ['keys'], 'id', 'key');
  config.keys.forEach((k, i) => {
    const own = tenants.get(k.tenant);
    if (!own)
      ctx.addIssue({
        code: 'custom',
        path: ['keys', i, 'tenant'],
        message: `no tenant "${k.tenant}" is declared under tenants`,
      });
    else if (k.project !== undefined && !own.has(k.project))
      ctx.addIssue({
        code: 'custom',
        path: ['keys', i, 'project'],
        message: `tenant "${k.tenant}" declares no project "${k.project}"`,
      });
  });
  checkUnique(ctx, config.budgets, ['budgets'], 'id', 'budget');
  // As for keys: a budget names a declared tenant/project, so a typo cannot leave spend unbounded.
  config.budgets.forEach((b, i) => {
    const { tenant, project } = b.scope;
    if (tenant !== undefined && !tenants.has(tenant))
      ctx.addIssue({
        code: 'custom',
        path: ['budgets', i, 'scope', 'tenant'],
        message: `no tenant "${tenant}" is declared under tenants`,
      });
    if (project !== undefined && !projects.has(project))
      ctx.addIssue({
        code: 'custom',
        path: ['budgets', i, 'scope', 'project'],
        message: `no project "${project}" is declared under tenants[].projects`,
      });
    else if (project !== undefined && tenant !== undefined && tenants.get(tenant)?.has(project) === false)
      ctx.addIssue({
        code: 'custom',
        path: ['budgets', i, 'scope', 'project'],
        message: `tenant "${tenant}" declares no project "${project}"`,
      });
  });
  for (const alias of Object.keys(config.routing.aliases)) {
    if (config.routing.aliases[config.routing.aliases[alias] ?? ''] !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['routing', 'aliases', alias],
        message: 'an alias must name a model, not another alias',
      });
  }
}

const governanceShape = z.object({
  tenants: z.array(tenantSchema),
  keys: z.array(configKey),
  budgets: z.array(budgetSchema),
  routing,
});

export type Config = z.infer<typeof configSchema>;
export type UpstreamConfig = Config['upstreams'][number];
export type RouteConfig = Config['routes'][number];
export type PriceOverrideConfig = Config['prices'][number];
export type TenantConfig = Config['tenants'][number];
export type ProjectConfig = TenantConfig['projects'][number];
export type KeyConfig = Config['keys'][number];
export type BudgetConfig = Config['budgets'][number];
export type RoutingConfig = Config['routing'];
export type GovernanceConfig = Config['governance'];
