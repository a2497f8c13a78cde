import type { GatewayCall } from './call-log.js';
import type { PricingOutcome } from './pricing-step.js';
import type { Admission } from '../governance/index.js';
import type { Attribution, EventStatus, UsageEvent } from '../ledger/index.js';
import type { PreparedRequest, ProviderAdapter, TapResult } from '../providers/index.js';
import { estimateUsage, type Usage } from '../usage/index.js';

/** Everything known about one proxied request, collected as it runs. */
export interface CallState {
  id: string;
  /** The request's log facts (its id is `id`, except for the event of an earlier attempt). */
  call: GatewayCall;
  started: Date;
  startedAt: number;
  firstByteAt: number | null;
  adapter: ProviderAdapter;
  prepared: PreparedRequest;
  attribution: Attribution;
  upstreamName: string;
  provider: string;
  streamed: boolean;
  /** The model sent upstream: the requested one, its alias target, a fallback or a downgrade. */
  routedModel: string;
  /** Fingerprint of the client's request (fingerprint.ts); every event of the call carries it. */
  requestHash: string;
  /** The client's IP as the socket saw it; null when the socket had already gone. */
  clientAddress: string | null;
  /** Budgets and rate limits to settle when the call is committed; null without governance. */
  admission: Admission | null;
  /** Events of earlier attempts that may have been billed (a timeout before a fallback). */
  priorEvents: UsageEvent[];
  /** Routing notes kept with the event (fallbacks taken). */
  notes: string[];
  /** Headers every response of this call carries (rate limits, budget, downgrade, fallback). */
  extraHeaders: Record<string, string>;
  /**
   * The crash reservation, written while the request goes upstream; the settlement waits for it
   * (the group commit keeps their order anyway) so the two never race.
   */
  reserved: Promise<void>;
}

export type Outcome =
  | { kind: 'completed'; httpStatus: number; tap: TapResult }
  | { kind: 'upstream_status'; httpStatus: number; tap: TapResult | null }
  | { kind: 'cut'; httpStatus: number | null; tap: TapResult | null; reason: string }
  | { kind: 'cancelled'; httpStatus: number | null; tap: TapResult | null }
  | { kind: 'not_sent'; httpStatus: number };

/**
 * Decides the usage of a finished call. Provider usage wins when the call completed; otherwise
 * the tokenizer estimates what was consumed (prompt + output seen so far) and says so.
 */
export function usageFor(state: CallState, outcome: Outcome, model: string): { usage: Usage; status: EventStatus } {
  if (outcome.kind === 'not_sent' || outcome.kind === 'upstream_status') {
    // Providers do not bill a request they refused or never received.
    return {
      usage: {
        buckets: {},
        source: 'provider',
        raw: outcome.kind === 'upstream_status' ? (outcome.tap?.usage?.raw ?? null) : null,
        issues: [],
      },
      status: 'error',
    };
  }
  const tap = outcome.tap;
  if (outcome.kind === 'completed' && tap?.usage) return { usage: tap.usage, status: tap.streamError ? 'error' : 'ok' };

  const estimate = estimateUsage({
    model,
    promptText: state.prepared.promptText,
    outputText: tap?.outputText ?? '',
    hasNonTextInput: state.prepared.hasNonTextInput,
    ...(state.prepared.messageCount !== undefined ? { messageCount: state.prepared.messageCount } : {}),
    ...(state.prepared.pretokenizedInputTokens !== undefined
      ? { requestOverheadTokens: state.prepared.pretokenizedInputTokens }
      : {}),
  });
  const status: EventStatus =
    outcome.kind === 'completed' ? 'ok' : outcome.kind === 'cancelled' ? 'cancelled' : 'interrupted';
  const why =
    outcome.kind === 'completed'
      ? 'provider sent no usage'
      : outcome.kind === 'cancelled'
        ? 'client disconnected'
        : `upstream ${outcome.reason}`;
  const partial = tap?.usage;
  if (!partial) return { usage: { ...estimate, issues: [...estimate.issues, `estimated: ${why}`] }, status };
  // A stream cut after usage began (Anthropic message_start): keep the provider's input side,
  // and never count fewer output tokens than the text already seen.
  const buckets = { ...partial.buckets };
  buckets.output = Math.max(buckets.output ?? 0, estimate.buckets.output ?? 0);
  return {
    usage: { buckets, source: 'estimated', raw: partial.raw, issues: [...partial.issues, `output estimated: ${why}`] },
    status,
  };
}

export function buildEvent(
  state: CallState,
  outcome: Outcome,
  usage: Usage,
  status: EventStatus,
  priced: PricingOutcome,
  endedAt: number,
): UsageEvent {
  const tap = 'tap' in outcome ? outcome.tap : null;
  const a = state.attribution;
  // Fields listed out rather than spread: on Node 20 a spread plus many properties costs ~10 µs.
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
    source: state.upstreamName,
    provider: state.provider,
    requested_model: state.prepared.model,
    model: tap?.servedModel ?? state.routedModel,
    route: state.adapter.route,
    status,
    http_status: outcome.httpStatus,
    streamed: state.streamed,
    latency_ms: Math.round(endedAt - state.startedAt),
    ttft_ms: state.streamed && state.firstByteAt !== null ? Math.round(state.firstByteAt - state.startedAt) : null,
    buckets: usage.buckets,
    usage_source: usage.source,
    cost_nano: priced.cost_nano,
    price_ref: priced.price_ref,
    raw_usage: usage.raw ?? null,
    usage_issues: [
      ...usage.issues,
      ...(priced.note ? [priced.note] : []),
      ...(tap?.streamError ? [`stream error: ${tap.streamError}`] : []),
      ...state.notes,
    ],
    request_hash: state.requestHash,
    client_address: state.clientAddress,
  };
}
