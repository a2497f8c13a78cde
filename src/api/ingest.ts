import { isIP } from 'node:net';
import { z } from 'zod';
import { PertokenError } from '../errors.js';
import { DIMENSION_ID, EVENT_ID, idSchema } from '../ids.js';
import type { UsageEvent } from '../ledger/index.js';
import { parseUsd, type PriceBook } from '../pricing/index.js';
import { BUCKETS, checkUsage, type Bucket } from '../usage/index.js';

export const MAX_BATCH = 5000;

const id = idSchema(EVENT_ID);
const dim = idSchema(DIMENSION_ID);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const tokens = z
  .object(Object.fromEntries(BUCKETS.map((b) => [b, count.optional()])) as Record<Bucket, z.ZodOptional<typeof count>>)
  .strict();

/** One usage event, CloudEvents-like (`id`, `time`, `source`) plus the canonical fields of §4. */
const eventSchema = z
  .object({
    id,
    time: z.iso.datetime({ offset: true }),
    source: z.string().min(1).max(256),
    specversion: z.string().optional(),
    type: z.string().max(256).optional(),
    tenant: dim.default('default'),
    project: dim.optional(),
    user: dim.optional(),
    feature: dim.optional(),
    key_id: dim.optional(),
    trace_id: dim.optional(),
    tags: z.record(z.string().max(64), z.string().max(256)).optional(),
    provider: dim,
    model: z.string().min(1).max(200),
    requested_model: z.string().min(1).max(200).optional(),
    route: z.string().max(64).default('event'),
    status: z.enum(['ok', 'error', 'interrupted', 'cancelled']).default('ok'),
    streamed: z.boolean().default(false),
    latency_ms: count.optional(),
    ttft_ms: count.optional(),
    tokens,
    /** A cost the sender already knows (a 9-decimal USD string); otherwise the price book prices it. */
    cost_usd: z.string().optional(),
    raw_usage: z.unknown().optional(),
    /** The sender's fingerprint of the request (hex; never the payload): repeats from one key are a loop. */
    request_hash: z
      .string()
      .regex(/^[0-9a-fA-F]{8,128}$/, 'must be 8 to 128 hex characters')
      .optional(),
    /** The client's IP literal; checked with node:net isIP, stored canonical. */
    client_address: z
      .string()
      .max(64)
      .refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address')
      .optional(),
  })
  .strict();

export interface IngestReply {
  accepted: string[];
  duplicate: string[];
  rejected: Array<{ id: string | null; index: number; reason: string }>;
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'event'}: ${issue.message}` : 'invalid event';
}

/** Validates each event on its own, so one bad event never sinks the rest of its batch. */
export function parseEventBatch(
  body: unknown,
  book: PriceBook,
): { events: UsageEvent[]; rejected: IngestReply['rejected'] } {
  const list = Array.isArray(body) ? body : (body as { events?: unknown } | null)?.events;
  if (!Array.isArray(list))
    throw new PertokenError('invalid_request', 'body must be a JSON array of events or {"events": [...]}', {
      param: 'events',
    });
  if (list.length > MAX_BATCH)
    throw new PertokenError('invalid_request', `a batch holds at most ${MAX_BATCH} events`, { param: 'events' });
  const events: UsageEvent[] = [];
  const rejected: IngestReply['rejected'] = [];
  list.forEach((item: unknown, index) => {
    const rawId = (item as { id?: unknown } | null)?.id;
    const parsed = eventSchema.safeParse(item);
    if (!parsed.success) {
      rejected.push({ id: typeof rawId === 'string' ? rawId : null, index, reason: issueText(parsed.error) });
      return;
    }
    try {
      events.push(toUsageEvent(parsed.data, book));
    } catch (err) {
      rejected.push({ id: parsed.data.id, index, reason: err instanceof Error ? err.message : String(err) });
    }
  });
  return { events, rejected };
}

function toUsageEvent(input: z.infer<typeof eventSchema>, book: PriceBook): UsageEvent {
  const time = new Date(input.time);
  const buckets = Object.fromEntries(Object.entries(input.tokens).filter(([, n]) => n !== undefined && n > 0));
  let cost_nano: bigint | null;
  let price_ref: string | null;
  const issues = checkUsage(buckets, input.raw_usage ?? null);
  if (input.cost_usd !== undefined) {
    cost_nano = parseUsd(input.cost_usd, 'cost_usd');
    price_ref = `reported:${input.source}`;
  } else {
    const priced = book.price({ provider: input.provider, model: input.model, at: time, buckets });
    cost_nano = priced.cost_nano;
    price_ref = priced.price_ref;
    if (priced.unpriced_reason) issues.push(`unpriced: ${priced.unpriced_reason}`);
  }
  return {
    id: input.id,
    time,
    origin: 'api',
    source: input.source,
    tenant: input.tenant,
    project: input.project ?? null,
    user: input.user ?? null,
    feature: input.feature ?? null,
    key_id: input.key_id ?? null,
    trace_id: input.trace_id ?? null,
    tags: input.tags ?? {},
    provider: input.provider,
    requested_model: input.requested_model ?? input.model,
    model: input.model,
    route: input.route,
    status: input.status,
    http_status: null,
    streamed: input.streamed,
    latency_ms: input.latency_ms ?? null,
    ttft_ms: input.ttft_ms ?? null,
    buckets,
    usage_source: 'reported',
    cost_nano,
    price_ref,
    raw_usage: input.raw_usage ?? null,
    usage_issues: issues,
    request_hash: input.request_hash?.toLowerCase() ?? null,
    client_address: input.client_address ?? null,
  };
}
