/**
 * Delivery of the notification outbox. Each pass takes, per sink, the oldest undelivered group
 * (one evaluation's rows for one route, at most the sink's maxBatch), claims it with a lease so no
 * other replica sends it meanwhile, POSTs it, and marks it delivered only after a 2xx. Any other
 * answer, a refused connection or a timeout releases the rows and backs the whole sink off
 * exponentially (1 s doubling, capped at 5 min; the state is shared through the database), and
 * retries forever: at-least-once to the sink, never again once a 2xx was recorded. A sink's groups
 * go out in queue order and a failure stops the sink's pass, so a resolve never overtakes its open.
 *
 * Alertmanager sinks also get a re-send every `resendMs` of the firing alerts they were told about
 * and of those resolved in the last 5 minutes (reference §(b): Alertmanager forgets alerts that are
 * not re-sent, and may restart and miss a resolve).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { request, type Dispatcher } from 'undici';
import { newEventId } from '../ledger/index.js';
import { presentAlert, type Notification } from './present.js';
import type { AlertSink, HttpDelivery } from './sinks/index.js';
import { publicAlert, type AlertStore, type OutboxEntry, type SinkState } from './store/index.js';

export interface AlertDeliveryOptions {
  store: AlertStore;
  sinks: readonly AlertSink[];
  /** The clock (tests inject one). */
  now?: () => Date;
  /** undici dispatcher for the POSTs (a proxy agent, a test pool); default the global one. */
  dispatcher?: Dispatcher;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Between passes of startAlertDelivery; default 1000 ms. */
  pollMs?: number;
  /** Per request, for the headers and for the body; default 10 000 ms. */
  timeoutMs?: number;
  /** A claim's lease: longer than a request can take; default 60 000 ms. */
  leaseMs?: number;
  /** First backoff, doubled per consecutive failure; default 1000 ms. */
  backoffMs?: number;
  /** Backoff cap; default 300 000 ms. */
  maxBackoffMs?: number;
  /** Delivered rows are kept this long; default 7 days. */
  retainMs?: number;
}

export interface DeliveryPass {
  /** Notifications delivered (2xx). */
  delivered: number;
  /** Failed attempts (deliveries, not rows). */
  failed: number;
  /** Alerts re-asserted to Alertmanager. */
  resent: number;
}

export interface AlertDelivery {
  /** One pass over every sink; the background loop calls it, tests call it with their clock. */
  pass(): Promise<DeliveryPass>;
  /** Stops the loop and waits for the pass in flight. */
  stop(): Promise<void>;
}

/** Resolved alerts are re-sent to Alertmanager this long after they end. */
export const RESOLVED_RESEND_MS = 5 * 60_000;
/** Groups one sink sends per pass, so a backlog does not starve the other sinks of a pass. */
const GROUPS_PER_PASS = 50;
const PRUNE_EVERY_MS = 3_600_000;

/** The delivery machinery without a timer: `pass()` is the whole of it. */
export function createAlertDelivery(options: AlertDeliveryOptions): AlertDelivery {
  const { store, sinks } = options;
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? 10_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const backoffMs = options.backoffMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 300_000;
  const retainMs = options.retainMs ?? 7 * 86_400_000;
  let prunedAt = -Infinity;

  const post = async (delivery: HttpDelivery): Promise<string | null> => {
    try {
      const res = await request(delivery.url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      const text = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) return null;
      return `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
    } catch (err: unknown) {
      return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
  };

  const failed = async (sink: AlertSink, error: string, token: string | null): Promise<void> => {
    const at = now();
    const state = await store.write(async (repo) => {
      if (token !== null) await repo.release(token, at, error);
      const previous = await repo.sinkState(sink.name);
      const failures = previous.failures + 1;
      const next: SinkState = {
        failures,
        retry_at: new Date(at.getTime() + Math.min(backoffMs * 2 ** Math.min(failures - 1, 30), maxBackoffMs)),
        resend_at: previous.resend_at,
      };
      await repo.putSinkState(sink.name, next);
      return next;
    });
    options.log?.warn(
      { sink: sink.name, failures: state.failures, retry_at: state.retry_at.toISOString(), error },
      'alert delivery failed; retrying with backoff',
    );
  };

  const recovered = async (sink: AlertSink): Promise<void> => {
    await store.write(async (repo) => {
      const state = await repo.sinkState(sink.name);
      if (state.failures > 0) await repo.putSinkState(sink.name, { ...state, failures: 0, retry_at: new Date(0) });
    });
  };

  const sendQueued = async (sink: AlertSink, tally: DeliveryPass, backingOff: boolean): Promise<boolean> => {
    for (let i = 0; i < GROUPS_PER_PASS; i++) {
      const at = now();
      const token = randomUUID();
      const claim = await store.write((repo) =>
        repo.claimGroup(sink.name, sink.maxBatch, token, at, new Date(at.getTime() + leaseMs)),
      );
      if (claim === null) return true;
      const first = claim.entries[0] as OutboxEntry;
      const error = await post(sink.render(claim.entries.map(toNotification), { now: at, delivery: first.id }));
      if (error !== null) {
        tally.failed++;
        await failed(sink, error, token);
        return false;
      }
      // A lost lease (0 rows) means another replica re-sent them: at-least-once, as documented.
      tally.delivered += await store.write((repo) => repo.settle(token, now()));
      if (backingOff) {
        backingOff = false;
        await recovered(sink);
      }
    }
    return true;
  };

  const resend = async (sink: AlertSink, resendMs: number, tally: DeliveryPass, backingOff: boolean): Promise<void> => {
    const at = now();
    const due = await store.write(async (repo) => {
      const state = await repo.sinkState(sink.name);
      if (state.resend_at > at) return false;
      await repo.putSinkState(sink.name, { ...state, resend_at: new Date(at.getTime() + resendMs) });
      // A sink's first pass: it knows only what this pass just sent it; re-asserting that is noise.
      return state.resend_at.getTime() > 0;
    });
    if (!due) return;
    const alerts = (await store.listForResend(new Date(at.getTime() - RESOLVED_RESEND_MS))).filter((a) =>
      a.notified_sinks.includes(sink.name),
    );
    // A fingerprint that fires again must not be ended by its previous alert's resolve.
    const firing = new Set(alerts.filter((a) => a.state === 'firing').map((a) => a.fingerprint));
    const asserted = alerts.filter((a) => a.state === 'firing' || !firing.has(a.fingerprint));
    for (let i = 0; i < asserted.length; i += sink.maxBatch) {
      const chunk = asserted.slice(i, i + sink.maxBatch).map((a): Notification => ({
        notification: '',
        change: a.state === 'firing' ? 'renotify' : 'resolved',
        seq: a.seq,
        alert: presentAlert(publicAlert(a)),
      }));
      const error = await post(sink.render(chunk, { now: at, delivery: `resend-${newEventId()}` }));
      if (error !== null) {
        tally.failed++;
        await failed(sink, error, null);
        // Retry the re-send as soon as the backoff allows.
        await store.write(async (repo) => {
          const state = await repo.sinkState(sink.name);
          await repo.putSinkState(sink.name, { ...state, resend_at: at });
        });
        return;
      }
      tally.resent += chunk.length;
    }
    if (backingOff && asserted.length > 0) await recovered(sink);
  };

  const passSink = async (sink: AlertSink, tally: DeliveryPass): Promise<void> => {
    const state = await store.sinkState(sink.name);
    if (state.retry_at > now()) return;
    if (!(await sendQueued(sink, tally, state.failures > 0))) return;
    if (sink.resendMs !== undefined) await resend(sink, sink.resendMs, tally, state.failures > 0);
  };

  return {
    async pass() {
      const tally: DeliveryPass = { delivered: 0, failed: 0, resent: 0 };
      const results = await Promise.allSettled(sinks.map((sink) => passSink(sink, tally)));
      for (const [i, r] of results.entries())
        if (r.status === 'rejected')
          options.log?.error({ err: r.reason, sink: sinks[i]?.name }, 'alert delivery pass failed; retried next pass');
      const at = now();
      if (at.getTime() - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = at.getTime();
        await store.write((repo) => repo.pruneDelivered(new Date(at.getTime() - retainMs)));
      }
      return tally;
    },
    async stop() {},
  };
}

/** The delivery loop `serve` runs: a pass every `pollMs` until stop(). */
export function startAlertDelivery(options: AlertDeliveryOptions): AlertDelivery {
  const delivery = createAlertDelivery(options);
  const pollMs = options.pollMs ?? 1000;
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        await delivery.pass();
      } catch (err: unknown) {
        options.log?.error({ err }, 'alert delivery pass failed; retried next pass');
      }
      await sleep(pollMs, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  })();
  return {
    pass: () => delivery.pass(),
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

function toNotification(entry: OutboxEntry): Notification {
  return { notification: entry.id, change: entry.change, seq: entry.seq, alert: entry.alert };
}
