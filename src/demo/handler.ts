import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { PertokenError, toPertokenError } from '../errors.js';
import { AdminApi, adminWire } from './admin-api.js';
import { DEMO_PROJECT_ID } from './admin-reports.js';
import { countTokensRoute, messages } from './anthropic-messages.js';
import { BillingLedger } from './billing-ledger.js';
import { EngineMetrics, type EngineRequest, type FinishedReason } from './engine-metrics.js';
import { NO_FAULTS, resolveFaults } from './faults.js';
import type { EngineWork, RouteContext, RouteResult } from './generation.js';
import { anthropicModelList, openaiModelList } from './models.js';
import { chatCompletions } from './openai-chat.js';
import { completions } from './openai-completions.js';
import { embeddings } from './openai-embeddings.js';
import { responses } from './openai-responses.js';
import { resolveOptions, type DemoOptions } from './options.js';
import { PromptCache } from './prompt-cache.js';
import { randomId } from './random.js';
import { Lifecycle, runStream, sendBody } from './stream.js';
import { isRecord } from './text.js';
import { errorReply, statusFaultReply, type Wire, type WireReply } from './wire-errors.js';

/**
 * Non-stream replies take `ttftMs + outputTokens * itlMs / NON_STREAM_ITL_DIVISOR`: a whole body
 * is generated like a stream but without per-chunk flushing, and the divisor keeps tests and demos
 * with long outputs quick while still making latency grow with output length.
 */
export const NON_STREAM_ITL_DIVISOR = 4;

const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * The request handler, with live counters for tests and embedding servers. `GET /metrics` (the
 * engine's Prometheus metrics, see engine-metrics.ts) is answered outside these counters and
 * faults, so that scraping never shifts a fault script's request indexes.
 */
export interface DemoHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Requests received so far, whatever their outcome. */
  readonly requests: number;
  /** Streaming responses currently open (generating or stalled). */
  readonly openStreams: number;
  /** Requests currently being handled, streaming or not. */
  readonly inFlight: number;
  /** The prompt prefixes behind cached-token counts (`reset()` it for a cold cache). */
  readonly promptCache: PromptCache;
}

interface Route {
  wire: Wire;
  /** Whether the engine computes it (and its metrics count it); counting tokens is not inference. */
  inference: boolean;
  handle(body: Record<string, unknown>, ctx: RouteContext): RouteResult;
}

const POST_ROUTES: Record<string, Route> = {
  '/v1/chat/completions': { wire: 'openai', inference: true, handle: chatCompletions },
  '/v1/completions': { wire: 'openai', inference: true, handle: completions },
  '/v1/responses': { wire: 'openai', inference: true, handle: responses },
  '/v1/embeddings': { wire: 'openai', inference: true, handle: embeddings },
  '/v1/messages': { wire: 'anthropic', inference: true, handle: messages },
  '/v1/messages/count_tokens': { wire: 'anthropic', inference: false, handle: countTokensRoute },
};

export function createDemoHandler(opts: DemoOptions = {}): DemoHandler {
  const config = resolveOptions(opts);
  const promptCache = opts.promptCache ?? new PromptCache();
  const stats = { requests: 0, openStreams: 0, inFlight: 0 };
  const engine = new EngineMetrics();
  const billing = new BillingLedger();
  const admin = new AdminApi({ ledger: billing, adminKey: opts.adminKey ?? null });

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Latency is scheduled from arrival, so that parsing and planning are inside the TTFT, not added to it.
    const arrived = performance.now();
    const index = stats.requests++;
    req.socket.setNoDelay(true);
    const life = new Lifecycle(res);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const route = method === 'POST' ? POST_ROUTES[path] : undefined;
    const wire: Wire =
      route?.wire ?? adminWire(method, path) ?? (isAnthropicRequest(path, req.headers) ? 'anthropic' : 'openai');
    const headers = replyHeaders(wire);
    let work: EngineRequest | null = null;
    // The bill follows the engine: what it counts as generated is what the Admin API reports.
    const finish = (done: EngineWork, generated: number, reason: FinishedReason): void => {
      work?.finish(generated, reason);
      if (done.bill) billing.record(done.bill, generated, billedAccount(done.bill.wire, req.headers));
    };
    try {
      const raw = await readBody(req);
      const parsed = parseJson(raw);
      const model = isRecord(parsed) && typeof parsed.model === 'string' ? parsed.model : null;
      const faults = resolveFaults(req.headers['x-demo-fault'], opts.script, { index, method, path, model });
      if (faults.reset) {
        req.socket.destroy();
        return;
      }
      if (route?.inference && model !== null) work = engine.admit(model);
      const start = arrived + faults.slowHeadersMs;
      await life.sleepUntil(start);
      if (life.closed) return;
      if (faults.status !== null) {
        const reply = statusFaultReply(wire, faults.status, model);
        return sendBody(res, life, reply.status, { ...headers, ...reply.headers }, reply.body, NO_FAULTS);
      }

      if (adminWire(method, path) !== null) {
        const text = admin.reply(path, new URLSearchParams((req.url ?? '').split('?')[1] ?? ''), req.headers);
        res.writeHead(200, {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
        return;
      }
      if (method === 'GET' && path === '/v1/models') {
        const list = wire === 'anthropic' ? anthropicModelList() : openaiModelList();
        return sendBody(res, life, 200, headers, list, NO_FAULTS);
      }
      if (!route) {
        throw new PertokenError('not_found', notFoundMessage(wire, method, path));
      }
      if (parsed === INVALID_JSON || !isRecord(parsed)) throw invalidJson(wire);

      const ctx: RouteContext = { config, faults, now: Math.floor(Date.now() / 1000), promptCache };
      const result = route.handle(parsed, ctx);
      if (result.work) work?.run(result.work);
      if (result.kind === 'json') {
        const generated = result.work?.generationTokens ?? 0;
        await life.sleepUntil(start + config.ttftMs + (generated * config.itlMs) / NON_STREAM_ITL_DIVISOR);
        if (life.closed) {
          if (result.work) finish(result.work, 0, 'abort');
          return;
        }
        // The engine is done once the body is ready, whatever then happens to it on the wire.
        if (result.work) finish(result.work, generated, result.work.finishedReason);
        return sendBody(res, life, result.status, headers, result.body, faults);
      }
      stats.openStreams += 1;
      try {
        res.writeHead(200, {
          ...headers,
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
        });
        res.flushHeaders();
        const outcome = await runStream(res, life, start, result.plan, config, faults);
        const { generationTokens, finishedReason } = result.work;
        if (outcome.complete) finish(result.work, generationTokens, finishedReason);
        else {
          const chunks = result.plan.frames.filter((f) => f.content).length;
          finish(result.work, chunks === 0 ? 0 : Math.round((generationTokens * outcome.sent) / chunks), 'abort');
        }
      } finally {
        stats.openStreams -= 1;
      }
    } catch (err) {
      replyError(res, wire, headers, err);
    } finally {
      work?.release();
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      serveMetrics(engine, res);
      return;
    }
    stats.inFlight += 1;
    serve(req, res)
      .catch((err: unknown) => replyError(res, 'openai', {}, err))
      .finally(() => {
        stats.inFlight -= 1;
      });
  };
  return Object.defineProperties(handler, {
    requests: { get: () => stats.requests, enumerable: true },
    openStreams: { get: () => stats.openStreams, enumerable: true },
    inFlight: { get: () => stats.inFlight, enumerable: true },
    promptCache: { value: promptCache, enumerable: true },
  }) as DemoHandler;
}

function serveMetrics(engine: EngineMetrics, res: ServerResponse): void {
  engine.exposition().then(
    ({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    },
    (err: unknown) => replyError(res, 'openai', {}, err),
  );
}

function replyError(res: ServerResponse, wire: Wire, headers: Record<string, string>, err: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const error = toPertokenError(err);
  const reply: WireReply = errorReply(wire, error);
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** OpenAI bills the project named by `openai-project`; the demo's Anthropic traffic is the default workspace. */
function billedAccount(wire: Wire, headers: IncomingHttpHeaders): string | null {
  if (wire === 'anthropic') return null;
  const project = headers['openai-project'];
  return typeof project === 'string' && project !== '' ? project : DEMO_PROJECT_ID;
}

/** Anthropic clients are told apart by their paths and the `anthropic-version` header they always send. */
function isAnthropicRequest(path: string, headers: IncomingHttpHeaders): boolean {
  return path.startsWith('/v1/messages') || headers['anthropic-version'] !== undefined;
}

function replyHeaders(wire: Wire): Record<string, string> {
  return wire === 'anthropic'
    ? { 'request-id': randomId('req_011C', 20) }
    : { 'x-request-id': randomId('req_', 32), 'openai-version': '2020-10-01' };
}

function notFoundMessage(wire: Wire, method: string, path: string): string {
  return wire === 'anthropic' ? 'Not Found' : `Invalid URL (${method} ${path})`;
}

const INVALID_JSON = Symbol('invalid-json');

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return null;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

function invalidJson(wire: Wire): PertokenError {
  return new PertokenError(
    'invalid_json',
    wire === 'anthropic'
      ? 'There was an issue with the format or content of your request: the body is not valid JSON.'
      : "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your " +
          'HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) {
      throw new PertokenError('body_too_large', `Request body exceeds ${MAX_BODY_BYTES} bytes.`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
