import type { Admission } from '../governance/index.js';
import type { Attribution, EventStatus, UsageEvent } from '../ledger/index.js';
import { priceMediaTokens, priceMediaUnits, type PriceBook, type PriceResult } from '../pricing/index.js';
import type { MediaReading, MediaRequest, MediaUnit, MeteredRoute } from '../providers/index.js';
import { bucketsTotal, type Buckets, type UsageSource } from '../usage/index.js';

/** Everything known about one metered pass-through call, collected as it runs. */
export interface PassthroughState {
  id: string;
  started: Date;
  startedAt: number;
  firstByteAt: number | null;
  route: MeteredRoute;
  request: MediaRequest;
  attribution: Attribution;
  upstream: string;
  provider: string;
  /** The response is an event stream. */
  streamed: boolean;
  admission: Admission | null;
  /** Headers every response of this call carries (rate limits, budget). */
  extraHeaders: Record<string, string>;
  clientAddress: string | null;
  /** The request fingerprint (fingerprint.ts), worked out once the body has gone upstream. */
  requestHash(): string;
  /** The crash reservation; the settlement waits for it. */
  reserved: Promise<void>;
}

export type PassthroughOutcome =
  | { kind: 'completed'; httpStatus: number; reading: MediaReading | null }
  | { kind: 'upstream_status'; httpStatus: number }
  | { kind: 'cut'; httpStatus: number | null; reading: MediaReading | null; reason: string }
  | { kind: 'cancelled'; httpStatus: number | null; reading: MediaReading | null }
  | { kind: 'not_sent'; httpStatus: number };

interface Metered {
  status: EventStatus;
  model: string;
  buckets: Buckets;
  source: UsageSource;
  raw: unknown;
  cost_nano: bigint | null;
  price_ref: string | null;
  issues: string[];
}

/**
 * What a call cost. A response's token usage is priced per token; otherwise its units (images,
 * characters, audio seconds, a free call), from the response or, when it tells nothing, from the
 * request. With neither the event is unpriced and says why — never a silent zero. Calls the
 * upstream refused or never received are not billed.
 */
export function meterOutcome(book: PriceBook, state: PassthroughState, outcome: PassthroughOutcome): Metered {
  const status: EventStatus =
    outcome.kind === 'completed'
      ? 'ok'
      : outcome.kind === 'cut'
        ? 'interrupted'
        : outcome.kind === 'cancelled'
          ? 'cancelled'
          : 'error';
  const reading = 'reading' in outcome ? outcome.reading : null;
  const requested = state.request.model;
  const model = reading?.servedModel ?? requested;
  if (outcome.kind === 'not_sent' || outcome.kind === 'upstream_status') {
    return {
      status,
      model,
      buckets: {},
      source: 'provider',
      raw: null,
      cost_nano: 0n,
      price_ref: 'not-billed',
      issues: [],
    };
  }
  const issues: string[] = [];
  let source: UsageSource = 'provider';
  if (outcome.kind !== 'completed') {
    source = 'estimated';
    const why = outcome.kind === 'cut' ? `upstream ${outcome.reason}` : 'client disconnected';
    issues.push(`estimated: ${why}; billed by what the request and the answer so far tell`);
  }
  const models = model === requested ? [model] : [model, requested];
  const at = state.started;
  const usage = reading?.usage ?? null;
  if (usage && bucketsTotal(usage.buckets) > 0) {
    let folded: string[] = [];
    let buckets = usage.buckets;
    const result = firstPriced(models, (m) => {
      const tokens = priceMediaTokens(book, { provider: state.provider, model: m, at, buckets: usage.buckets });
      folded = tokens.folded;
      buckets = tokens.buckets;
      return tokens.result;
    });
    if (folded.length > 0) issues.push(`${folded.join(', ')} priced at the model's output rate (it lists no own rate)`);
    return priced(status, model, buckets, source, usage.raw, result, [...usage.issues, ...issues]);
  }
  const units: MediaUnit | null = reading ? reading.units : state.request.units;
  if (units === null) {
    issues.push(
      'unpriced: the answer reported no usage and no billable units (a transcription as text, srt or vtt has no duration)',
    );
    return { status, model, buckets: {}, source, raw: usage?.raw ?? null, cost_nano: null, price_ref: null, issues };
  }
  const result = firstPriced(models, (m) => priceMediaUnits(book, { provider: state.provider, model: m, at, units }));
  return priced(status, model, {}, source, { ...units }, result, issues);
}

function firstPriced(models: readonly string[], price: (model: string) => PriceResult): PriceResult {
  let first: PriceResult | null = null;
  for (const model of models) {
    const result = price(model);
    if (result.cost_nano !== null) return result;
    first ??= result;
  }
  return first as PriceResult;
}

function priced(
  status: EventStatus,
  model: string,
  buckets: Buckets,
  source: UsageSource,
  raw: unknown,
  result: PriceResult,
  issues: string[],
): Metered {
  return {
    status,
    model,
    buckets,
    source,
    raw,
    cost_nano: result.cost_nano,
    price_ref: result.price_ref,
    issues: result.unpriced_reason ? [...issues, `unpriced: ${result.unpriced_reason}`] : issues,
  };
}

export function passthroughEvent(
  state: PassthroughState,
  outcome: PassthroughOutcome,
  metered: Metered,
  endedAt: number,
): UsageEvent {
  const a = state.attribution;
  return {
    tenant: a.tenant,
    project: a.project,
    user: a.user,
    feature: a.feature,
    key_id: a.key_id,
    trace_id: a.trace_id,
    tags: a.tags,
    id: state.id,
    time: state.started,
    origin: 'gateway',
    source: state.upstream,
    provider: state.provider,
    requested_model: state.request.model,
    model: metered.model,
    route: state.route.id,
    status: metered.status,
    http_status: outcome.httpStatus,
    streamed: state.streamed,
    latency_ms: Math.round(endedAt - state.startedAt),
    ttft_ms: state.streamed && state.firstByteAt !== null ? Math.round(state.firstByteAt - state.startedAt) : null,
    buckets: metered.buckets,
    usage_source: metered.source,
    cost_nano: metered.cost_nano,
    price_ref: metered.price_ref,
    raw_usage: metered.raw ?? null,
    usage_issues: metered.issues,
    request_hash: state.requestHash(),
    client_address: state.clientAddress,
  };
}
