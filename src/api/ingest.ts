import { invalidInput, PertokenError } from '../errors.js';
import type { UsageEvent } from '../ledger/index.js';
import type { PriceBook } from '../pricing/index.js';
import { checkUsage } from '../usage/index.js';
import { eventSchema, issueText, MAX_CLOCK_SKEW_MS, type EventInput } from './ingest-fields.js';

export const MAX_BATCH = 5000;

export interface IngestReply {
  accepted: string[];
  duplicate: string[];
  rejected: Array<{ id: string | null; index: number; reason: string }>;
}

export interface BatchContext {
  book: PriceBook;
  /** The server clock: events dated past it by more than `maxSkewMs` are refused. */
  now: Date;
  /** Default MAX_CLOCK_SKEW_MS. */
  maxSkewMs?: number;
}

/**
 * Validates each event on its own, so one bad event never sinks the rest of its batch: only a body
 * that is no batch at all (not an array or `{"events": [...]}`, more than MAX_BATCH events) is a 400.
 * Every event it returns is storable as it stands, so the ledger's batch insert cannot refuse it.
 */
export function parseEventBatch(
  body: unknown,
  context: BatchContext,
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
      events.push(toUsageEvent(parsed.data, context));
    } catch (err) {
      // Anything else is a bug of ours: a 500, logged, rather than a reason the sender cannot act on.
      if (!(err instanceof PertokenError) || err.status !== 400) throw err;
      const reason = err.param === null ? err.message : `${err.param}: ${err.message}`;
      rejected.push({ id: parsed.data.id, index, reason });
    }
  });
  return { events, rejected };
}

function toUsageEvent(input: EventInput, context: BatchContext): UsageEvent {
  const time = new Date(input.time);
  const skew = context.maxSkewMs ?? MAX_CLOCK_SKEW_MS;
  const ahead = time.getTime() - context.now.getTime();
  if (ahead > skew)
    throw invalidInput(
      'time',
      `is ${Math.ceil(ahead / 1000)} s ahead of the server clock (${context.now.toISOString()}); ` +
        `an event may be dated at most ${skew / 1000} s ahead`,
    );
  const buckets = Object.fromEntries(Object.entries(input.tokens).filter(([, n]) => n !== undefined && n > 0));
  let cost_nano: bigint | null;
  let price_ref: string | null;
  const issues = checkUsage(buckets, input.raw_usage ?? null);
  if (input.cost_usd !== undefined) {
    cost_nano = input.cost_usd;
    price_ref = `reported:${input.source}`;
  } else {
    const priced = context.book.price({ provider: input.provider, model: input.model, at: time, buckets });
    cost_nano = priced.cost_nano;
    price_ref = priced.price_ref;
    // Token counts that price past one call's bound (MAX_CALL_COST_NANO) come back unpriced with the reason.
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
