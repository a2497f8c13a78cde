import { z } from 'zod';

/** Names that appear in routes, metrics and price_ref: short and predictable. */
const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, 'letters, digits, ".", "_" or "-", up to 63 characters');

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

const priceValue = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?$/)]);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

const priceOverride = z
  .object({
    provider: name,
    model: z.string().min(1).max(200),
    from: isoDate,
    to: isoDate.optional(),
    discount_pct: priceValue.optional(),
    batch_discount_pct: priceValue.optional(),
    input: priceValue.optional(),
    output: priceValue.optional(),
    cache_read: priceValue.optional(),
    cache_write_5m: priceValue.optional(),
    cache_write_1h: priceValue.optional(),
    input_audio: priceValue.optional(),
    output_audio: priceValue.optional(),
    reasoning: priceValue.optional(),
    requests: priceValue.optional(),
  })
  .strict();

const server = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(4000),
    /** Largest request body accepted (images in base64 make chat bodies large). */
    max_body_bytes: z.number().int().positive().default(20 * 1024 * 1024),
    /** How long SIGTERM waits for in-flight requests before closing. */
    drain_timeout_ms: positiveMs.default(30_000),
  })
  .strict()
  .default({ host: '127.0.0.1', port: 4000, max_body_bytes: 20 * 1024 * 1024, drain_timeout_ms: 30_000 });

const ledger = z
  .object({
    /** NORMAL survives kill -9 (the WAL lives in the OS page cache); FULL also survives power loss. */
    synchronous: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
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

export const configSchema = z
  .object({
    server,
    upstreams: z.array(upstream).default([]),
    routes: z.array(route).default([]),
    prices: z.array(priceOverride).default([]),
    ledger,
    demo,
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    config.upstreams.forEach((u, i) => {
      if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: ['upstreams', i, 'name'], message: `duplicate upstream name "${u.name}"` });
      names.add(u.name);
    });
    config.routes.forEach((r, i) => {
      if (!names.has(r.upstream)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstream'], message: `no upstream named "${r.upstream}"` });
    });
  });

export type Config = z.infer<typeof configSchema>;
export type UpstreamConfig = Config['upstreams'][number];
export type RouteConfig = Config['routes'][number];
export type PriceOverrideConfig = Config['prices'][number];
