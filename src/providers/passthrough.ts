import type { IncomingHttpHeaders } from 'node:http';
import { invalidInput } from '../errors.js';
import { OPENAI_MEDIA, type MediaMeter } from './openai-media.js';
import type { RouteId, WireKind } from './types.js';

/**
 * Routes the gateway forwards without a model adapter: the OpenAI media endpoints (metered by
 * their own units or tokens) and the control routes of resources the adapters create (a stored
 * response, a stored chat completion, a model). The gateway's routes, their key scopes and their
 * metering are all read from this table, so a route is added here and nowhere else.
 */

interface RouteBase {
  /** Recorded as the event's `route` (metered routes) and used in logs and metrics. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Path the client calls on the gateway; `:name` segments are forwarded as they came. */
  readonly clientPath: `/v1/${string}`;
  /**
   * Path appended to the upstream base URL per wire the route exists on (the adapters' convention:
   * OpenAI base URLs end in /v1, Anthropic's do not). The query string is forwarded as it came.
   */
  readonly upstreamPath: Readonly<Partial<Record<WireKind, string>>>;
}

/** Forwarded after authentication; nothing billable happens on it. */
export interface ControlRoute extends RouteBase {
  /** The model route whose key scope it needs (`responses` for a stored response); null: any key. */
  readonly scopeOf: RouteId | null;
  /** `json`: a small body, forwarded as it came. */
  readonly body: 'none' | 'json';
  readonly meter: null;
}

/** A billable call: authorized for its model, admitted by budgets, recorded as a ledger event. */
export interface MeteredRoute extends RouteBase {
  readonly scopeOf: RouteId;
  /** `multipart`: streamed to the upstream; only its small text fields are looked at. */
  readonly body: 'json' | 'multipart';
  readonly meter: MediaMeter;
}

export type PassthroughRoute = ControlRoute | MeteredRoute;

function metered(
  id: `openai.${string}`,
  path: `/${string}`,
  body: MeteredRoute['body'],
  meter: MediaMeter,
): MeteredRoute {
  // Image, speech and moderation calls are model calls of a `chat` key: a key's model globs and
  // budgets already say which of them it may make and how much it may spend.
  return {
    id,
    method: 'POST',
    clientPath: `/v1${path}`,
    upstreamPath: { openai: path },
    scopeOf: 'openai.chat',
    body,
    meter,
  };
}

function control(
  id: string,
  method: ControlRoute['method'],
  path: `/${string}`,
  scopeOf: RouteId | null,
  wires: Partial<Record<WireKind, string>> = { openai: path },
): ControlRoute {
  return {
    id,
    method,
    clientPath: `/v1${path}`,
    upstreamPath: wires,
    scopeOf,
    body: method === 'POST' ? 'json' : 'none',
    meter: null,
  };
}

export const PASSTHROUGH_ROUTES: readonly PassthroughRoute[] = Object.freeze([
  metered('openai.images.generations', '/images/generations', 'json', OPENAI_MEDIA.imageGeneration),
  metered('openai.images.edits', '/images/edits', 'multipart', OPENAI_MEDIA.imageEdit),
  metered('openai.images.variations', '/images/variations', 'multipart', OPENAI_MEDIA.imageVariation),
  metered('openai.audio.speech', '/audio/speech', 'json', OPENAI_MEDIA.speech),
  metered('openai.audio.transcriptions', '/audio/transcriptions', 'multipart', OPENAI_MEDIA.transcription),
  metered('openai.audio.translations', '/audio/translations', 'multipart', OPENAI_MEDIA.transcription),
  metered('openai.moderations', '/moderations', 'json', OPENAI_MEDIA.moderation),
  control('openai.responses.retrieve', 'GET', '/responses/:id', 'openai.responses'),
  control('openai.responses.delete', 'DELETE', '/responses/:id', 'openai.responses'),
  control('openai.responses.input_items', 'GET', '/responses/:id/input_items', 'openai.responses'),
  control('openai.responses.cancel', 'POST', '/responses/:id/cancel', 'openai.responses'),
  control('openai.responses.input_tokens', 'POST', '/responses/input_tokens', 'openai.responses'),
  control('openai.chat.list', 'GET', '/chat/completions', 'openai.chat'),
  control('openai.chat.retrieve', 'GET', '/chat/completions/:id', 'openai.chat'),
  control('openai.chat.update', 'POST', '/chat/completions/:id', 'openai.chat'),
  control('openai.chat.delete', 'DELETE', '/chat/completions/:id', 'openai.chat'),
  control('openai.chat.messages', 'GET', '/chat/completions/:id/messages', 'openai.chat'),
  control('models.retrieve', 'GET', '/models/:id', null, { openai: '/models/:id', anthropic: '/v1/models/:id' }),
]);

/**
 * The wire a pass-through call is for: a route on both wires (GET /v1/models/:id) goes to
 * Anthropic when the caller sends `anthropic-version`, which Anthropic's SDK always does.
 */
export function passthroughWire(route: PassthroughRoute, headers: IncomingHttpHeaders): WireKind {
  if (
    route.upstreamPath.anthropic !== undefined &&
    (route.upstreamPath.openai === undefined || headers['anthropic-version'])
  )
    return 'anthropic';
  return 'openai';
}

/**
 * The upstream path of a call: the wire's path with the client's `:name` segments put back,
 * encoded, so that an id can never step to another path of the upstream (`..`, `/`).
 */
export function passthroughPath(
  route: PassthroughRoute,
  wire: WireKind,
  params: Readonly<Record<string, string>>,
): string {
  const path = route.upstreamPath[wire] ?? '';
  return path.replace(/:([a-z_]+)/g, (_m, name: string) => {
    const value = params[name] ?? '';
    if (value === '' || value === '.' || value === '..') throw invalidInput(name, `\`${name}\` must be an id`);
    return encodeURIComponent(value);
  });
}
