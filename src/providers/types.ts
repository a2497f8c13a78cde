import type { PertokenError } from '../errors.js';
import type { Usage } from '../usage/index.js';

/** The two wire formats an upstream can speak. */
export type WireKind = 'openai' | 'anthropic';

export type RouteId =
  | 'openai.chat'
  | 'openai.responses'
  | 'openai.embeddings'
  | 'openai.completions'
  | 'anthropic.messages'
  | 'anthropic.count_tokens';

/** A client request after validation and rewrite, ready to forward. */
export interface PreparedRequest {
  /** JSON body to send upstream (e.g. with `stream_options.include_usage` injected). */
  body: Buffer;
  /** The model the client asked for (`requested_model`). */
  model: string;
  stream: boolean;
  /** OpenAI streams: true when the client itself asked for the usage chunk. */
  clientWantsUsage: boolean;
  /** Upper bound on output tokens the client allowed (`max_tokens` & co.), or null when unset. */
  maxOutputTokens: number | null;
  /**
   * Text of the prompt, only for token estimation when the provider sends no usage. Held in memory
   * for the life of the request; never stored or logged.
   */
  promptText: string;
  /** Non-text parts (images, audio) seen in the prompt, to flag an estimate as a lower bound. */
  hasNonTextInput: boolean;
  /** Chat messages in the prompt (system included), for the per-message overhead of an estimate. */
  messageCount?: number;
  /**
   * Prompt tokens the client sent as token ids (legacy completions / embeddings), known exactly
   * without text; an estimate adds them as `requestOverheadTokens`.
   */
  pretokenizedInputTokens?: number;
}

/** What a response (whole body or stream) told us. */
export interface TapResult {
  /** Usage from the provider, or null when none arrived. */
  usage: Usage | null;
  /** The model that served the request according to the upstream. */
  servedModel: string | null;
  /**
   * Output text seen so far (stream deltas or body), for estimation only; never stored. Stream taps
   * work it out on first read, since most streams end with usage and never need it.
   */
  outputText: string;
  /** True when the provider signalled a normal end ([DONE], message_stop, response.completed). */
  completed: boolean;
  /** A provider error event inside a 200 stream (Anthropic `error` event, Responses `error`). */
  streamError: string | null;
}

/**
 * Incremental SSE reader for one streaming response. It forwards complete events only, so a client
 * never sees half an event, and may drop the usage-only chunk the gateway asked for on its behalf.
 */
export interface StreamTap {
  /** Feed upstream bytes; returns the bytes to forward to the client now (possibly empty). */
  push(chunk: Buffer): Buffer;
  /** Upstream ended; returns any remaining bytes to forward. */
  flush(): Buffer;
  result(): TapResult;
}

/** The virtual-key scope a route requires (`keys[].scopes` in pertoken.yaml). */
export type RouteScope = 'chat' | 'completions' | 'responses' | 'embeddings' | 'messages';

/**
 * Everything about one wire lives on its adapter: the gateway's route table, the key scope check
 * and the held-back end of a stream are all derived from ADAPTERS, so adding a wire is one provider
 * file and one ADAPTERS entry.
 */
export interface ProviderAdapter {
  readonly route: RouteId;
  readonly wire: WireKind;
  /** Path the client calls on the gateway (DESIGN §3), e.g. `/v1/chat/completions`. */
  readonly clientPath: `/v1/${string}`;
  /** Path appended to the upstream base URL, e.g. `/chat/completions` or `/v1/messages`. */
  readonly upstreamPath: string;
  readonly scope: RouteScope;
  /** Whether responses of this route carry billable usage (count_tokens does not). */
  readonly metered: boolean;
  /**
   * Text that marks the event telling a client "done" ([DONE], message_stop, response.completed).
   * That event is held back until the ledger has committed the request, so a client that saw the
   * end of a stream can count on its cost being recorded. `null` only for a route that never
   * streams (its `prepare` always yields `stream: false`); a streaming route must name at least one.
   */
  readonly terminalMarkers: readonly [string, ...string[]] | null;
  /**
   * Validates the parsed client body and rewrites it; throws PertokenError('invalid_request', …, {param}).
   * `raw` is the body as received: when nothing needs rewriting it is forwarded byte for byte.
   */
  prepare(body: unknown, raw?: Buffer): PreparedRequest;
  /** Reads usage from a complete JSON response body. */
  readBody(body: unknown): TapResult;
  createStreamTap(request: PreparedRequest, options?: StreamTapOptions): StreamTap;
  /**
   * The body of an error pertoken answers on this route (its status and headers come from the
   * error), in the wire's own shape so that the wire's SDK raises the right class (errors.ts).
   */
  readonly errorBody: ErrorBodyRenderer;
}

/** Renders one of pertoken's own errors as a JSON body of a wire. */
export type ErrorBodyRenderer = (error: PertokenError) => unknown;

export interface StreamTapOptions {
  /**
   * Largest SSE event held in memory to be parsed (default 32 MiB). A larger event is forwarded
   * as it arrives without being read, which keeps a stream's memory bounded.
   */
  maxEventBytes?: number;
}
