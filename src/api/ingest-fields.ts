/**
 * The fields of one event on the event API (`POST /v1/usage/events`) and the rule each is held to.
 * Every rule the ledger applies when it stores a row is applied here first, under the field's
 * external name: the ledger validates a whole batch at once, so an event it refused would sink
 * the batch and name an internal column (`cost_nano`) the sender never wrote.
 */
import { z } from 'zod';
import { PertokenError } from '../errors.js';
import { DIMENSION_ID, EVENT_ID, idSchema } from '../ids.js';
import { canonicalClientAddress, EVENT_STATUSES } from '../ledger/index.js';
import { formatUsd, parseUsd } from '../money.js';
import { MAX_CALL_COST_NANO } from '../pricing/index.js';
import { BUCKETS, type Bucket } from '../usage/index.js';

/** How far ahead of the server clock an event may be dated: clocks drift, the future has not been spent. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The most one event may count. The ledger sums events into hourly and daily rollups of signed
 * 64-bit integers; a cost or count near the column's limit would overflow a rollup cell and fail
 * every later insert into it. A trillion tokens per bucket, and at most MAX_CALL_COST_NANO (a
 * million USD, pricing/types.ts) an event, leave room for millions of events per cell.
 */
export const MAX_BUCKET_TOKENS = 1_000_000_000_000;

const id = idSchema(EVENT_ID);
const dim = idSchema(DIMENSION_ID);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const tokenCount = z.number().int().nonnegative().max(MAX_BUCKET_TOKENS);
const tokens = z
  .object(
    Object.fromEntries(BUCKETS.map((b) => [b, tokenCount.optional()])) as Record<
      Bucket,
      z.ZodOptional<typeof tokenCount>
    >,
  )
  .strict();

/** PostgreSQL text refuses NUL: one such byte would fail the batch's insert, so control characters are refused here. */
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const text = (min: number, max: number): z.ZodString =>
  z.string().min(min).max(max).regex(NO_CONTROL, 'must not contain control characters');

/** A cost the sender already knows: a 9-decimal USD string, never negative, within the ledger's range. */
const costUsd = z
  .string({ error: 'must be a decimal string of USD such as "0.001250000" (a JSON number loses digits)' })
  .transform((value, ctx) => {
    let nano: bigint;
    try {
      nano = parseUsd(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof PertokenError ? err.message : 'invalid USD amount' });
      return z.NEVER;
    }
    if (nano < 0n) ctx.addIssue({ code: 'custom', message: 'must not be negative' });
    else if (nano > MAX_CALL_COST_NANO)
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${formatUsd(MAX_CALL_COST_NANO)} USD an event; split larger amounts`,
      });
    return nano;
  });

/** One usage event, CloudEvents-like (`id`, `time`, `source`) plus the canonical fields of §4. */
export const eventSchema = z
  .object({
    id,
    time: z.iso.datetime({ offset: true }),
    source: text(1, 256),
    specversion: text(0, 64).optional(),
    type: text(0, 256).optional(),
    tenant: dim.default('default'),
    project: dim.optional(),
    user: dim.optional(),
    feature: dim.optional(),
    key_id: dim.optional(),
    trace_id: dim.optional(),
    tags: z.record(text(0, 64), text(0, 256)).optional(),
    provider: dim,
    model: text(1, 200),
    requested_model: text(1, 200).optional(),
    route: text(0, 64).default('event'),
    status: z.enum(EVENT_STATUSES).default('ok'),
    streamed: z.boolean().default(false),
    latency_ms: count.optional(),
    ttft_ms: count.optional(),
    tokens,
    /** Otherwise the price book prices the event at its own `time`. */
    cost_usd: costUsd.optional(),
    raw_usage: z.unknown().optional(),
    /** The sender's fingerprint of the request (hex; never the payload): repeats from one key are a loop. */
    request_hash: z
      .string()
      .regex(/^[0-9a-fA-F]{8,128}$/, 'must be 8 to 128 hex characters')
      .optional(),
    /** The client's IP literal, stored canonical by the same rule the ledger applies. */
    client_address: z
      .string()
      .max(64)
      .refine((v) => canonicalClientAddress(v) !== null, 'must be an IPv4 or IPv6 address')
      .optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    // A refused call never reached a provider: it is demand, counted in refused_requests, never spend.
    if (e.status === 'refused' && (Object.values(e.tokens).some((n) => (n ?? 0) > 0) || (e.cost_usd ?? 0n) !== 0n))
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'a refused event carries no tokens and no cost' });
  });

export type EventInput = z.infer<typeof eventSchema>;

/** The first problem of an event, as `field: message` under the field's external name. */
export function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'event'}: ${issue.message}` : 'invalid event';
}
