import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { sendError, writeChunk } from '../http/index.js';
import type { UsageEvent } from '../ledger/index.js';
import { SseReader, type MediaReading, type SseBlock } from '../providers/index.js';
import { logCall, type GatewayCall } from './call-log.js';
import { meterOutcome, passthroughEvent, type PassthroughOutcome, type PassthroughState } from './passthrough-meter.js';
import { costHeaders, readUpstreamBody } from './call-steps.js';
import type { GatewayDeps } from './deps.js';
import { clientResponseHeaders, upstreamFailure } from './upstream.js';

/**
 * The answer of a metered pass-through call, relayed by its kind (JSON read whole for its usage,
 * an event stream tapped as it goes, anything else streamed as it is), and the call's event
 * committed before the response ends.
 */

/** A JSON answer is read whole (bounded) for its usage, so that its cost can be a header. */
export async function relayJson(
  deps: GatewayDeps,
  call: GatewayCall,
  state: PassthroughState,
  response: Dispatcher.ResponseData,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  let body: Buffer;
  try {
    body = await readUpstreamBody(response.body);
  } catch (err) {
    const failure = upstreamFailure(err, state.upstream);
    await commit(
      deps,
      state,
      signal.aborted
        ? { kind: 'cancelled', httpStatus: response.statusCode, reading: null }
        : { kind: 'cut', httpStatus: response.statusCode, reading: null, reason: 'body failed' },
    );
    if (!signal.aborted)
      logCall(deps.log, call, 'warn', 'upstream body failed', {
        status: failure.status,
        code: failure.code,
        reason: failure.message,
      });
    sendError(res, failure, state.extraHeaders, call.errorBody);
    return;
  }
  let reading: MediaReading | null = null;
  try {
    reading = state.route.meter.readBody(JSON.parse(body.toString('utf8')), state.request);
  } catch {
    // Not JSON after all: billed by what the request says.
  }
  const event = await commit(deps, state, { kind: 'completed', httpStatus: response.statusCode, reading });
  if (res.destroyed) return;
  res
    .writeHead(response.statusCode, {
      ...clientResponseHeaders(response.headers),
      'content-length': String(body.length),
      ...costHeaders(event),
      ...state.extraHeaders,
    })
    .end(body);
}

/**
 * Bytes relayed as they arrive (audio, text, an upstream error). The cost depends on the request
 * alone here, so it is known before the first byte and sent as a header; the event is committed
 * before the response ends.
 */
export async function relayRaw(
  deps: GatewayDeps,
  call: GatewayCall,
  state: PassthroughState,
  response: Dispatcher.ResponseData,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const completed: PassthroughOutcome =
    response.statusCode >= 400
      ? { kind: 'upstream_status', httpStatus: response.statusCode }
      : { kind: 'completed', httpStatus: response.statusCode, reading: null };
  const expected = passthroughEvent(state, completed, meterOutcome(deps.priceBook, state, completed), 0);
  res.writeHead(response.statusCode, {
    ...clientResponseHeaders(response.headers),
    ...costHeaders(expected),
    ...state.extraHeaders,
  });
  let failure: unknown = null;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      state.firstByteAt ??= performance.now();
      await writeChunk(res, chunk);
    }
  } catch (err) {
    failure = err;
  }
  await finish(deps, call, state, completed, failure, signal, res, []);
}

/** An event stream (streamed images, speech or transcription): the events that carry usage are held until the commit. */
export async function relayEvents(
  deps: GatewayDeps,
  call: GatewayCall,
  state: PassthroughState,
  response: Dispatcher.ResponseData,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  state.streamed = true;
  res.writeHead(response.statusCode, { ...clientResponseHeaders(response.headers), ...state.extraHeaders });
  res.flushHeaders();
  const reader = new SseReader();
  const held: Buffer[] = [];
  let reading: MediaReading | null = null;
  const take = async (blocks: SseBlock[]): Promise<void> => {
    for (const block of blocks) {
      const found = block.event ? readEvent(state, block.event.data) : null;
      if (found) reading = found;
      // From the first event that reports usage on, bytes wait for the commit: a client that saw
      // the end of the stream can count on its cost being recorded.
      if (found || held.length > 0) held.push(block.raw);
      else await writeChunk(res, block.raw);
    }
  };
  let failure: unknown = null;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      state.firstByteAt ??= performance.now();
      await take(reader.push(chunk));
    }
    await take(reader.flush());
  } catch (err) {
    failure = err;
  }
  const completed: PassthroughOutcome = { kind: 'completed', httpStatus: response.statusCode, reading };
  await finish(deps, call, state, completed, failure, signal, res, held);
}

function readEvent(state: PassthroughState, data: string): MediaReading | null {
  try {
    return state.route.meter.readEvent(JSON.parse(data), state.request);
  } catch {
    return null;
  }
}

/** Commits a relayed answer by how it ended, then ends the response (or breaks it, as the upstream did). */
async function finish(
  deps: GatewayDeps,
  call: GatewayCall,
  state: PassthroughState,
  completed: PassthroughOutcome,
  failure: unknown,
  signal: AbortSignal,
  res: ServerResponse,
  held: Buffer[],
): Promise<void> {
  const reading = 'reading' in completed ? completed.reading : null;
  const outcome: PassthroughOutcome =
    completed.kind === 'upstream_status'
      ? completed
      : signal.aborted
        ? { kind: 'cancelled', httpStatus: completed.httpStatus, reading }
        : failure !== null
          ? {
              kind: 'cut',
              httpStatus: completed.httpStatus,
              reading,
              reason: upstreamFailure(failure, state.upstream).code,
            }
          : completed;
  await commit(deps, state, outcome);
  if (outcome.kind === 'cancelled') logCall(deps.log, call, 'info', 'client disconnected', CLIENT_CLOSED);
  else if (outcome.kind === 'cut')
    logCall(deps.log, call, 'warn', 'upstream stream cut', {
      status: completed.httpStatus,
      code: 'stream_cut',
      reason: `upstream ${outcome.reason}`,
    });
  if (res.destroyed) return;
  if (held.length > 0) await writeChunk(res, Buffer.concat(held));
  if (failure !== null) res.destroy();
  else res.end();
}

export async function commit(
  deps: GatewayDeps,
  state: PassthroughState,
  outcome: PassthroughOutcome,
): Promise<UsageEvent> {
  const event = passthroughEvent(state, outcome, meterOutcome(deps.priceBook, state, outcome), performance.now());
  await state.reserved;
  await deps.ledger.settle(event);
  deps.observer.eventRecorded(event);
  if (state.admission) {
    try {
      await state.admission.settle([event]);
    } catch (err) {
      deps.log.error({ err, event_id: event.id }, 'budget settle failed; the ledger has the event');
    }
  }
  return event;
}

export const CLIENT_CLOSED = {
  status: null,
  code: 'client_closed',
  reason: 'the client went away before the answer ended',
};

export function upstreamStatus(status: number): { status: number; code: string; reason: string } {
  return { status, code: 'upstream_status', reason: `the upstream answered ${status}` };
}
