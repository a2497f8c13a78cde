import { appendFileSync } from 'node:fs';
import { formatUsd } from '../pricing/index.js';
import type { Store, UsageEvent } from './types.js';

export interface SettleRetryOptions {
  /** First retry delay; doubles up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  onFailure?: (err: unknown, event: UsageEvent) => void;
}

/**
 * Keeps a call's usage when its commit fails (a locked or full disk, a dropped connection): the
 * event stays in memory and is retried with backoff, and on shutdown whatever is still unsettled
 * is written to a JSONL file that `POST /v1/usage/events` accepts as is. The upstream has already
 * billed the call, so failing the client's response would lose money and help nobody.
 */
export class SettleRetrier {
  readonly #store: Pick<Store, 'settle'>;
  readonly #pending = new Map<string, UsageEvent>();
  readonly #base: number;
  readonly #max: number;
  readonly #onFailure: (err: unknown, event: UsageEvent) => void;
  #delay: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(store: Pick<Store, 'settle'>, options: SettleRetryOptions = {}) {
    this.#store = store;
    this.#base = options.baseDelayMs ?? 250;
    this.#max = options.maxDelayMs ?? 10_000;
    this.#delay = this.#base;
    this.#onFailure = options.onFailure ?? (() => undefined);
  }

  /** Events accepted but not yet committed. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Resolves once the event is committed, or once it is safely queued for retry. */
  async settle(event: UsageEvent): Promise<void> {
    try {
      await this.#store.settle(event);
    } catch (err) {
      this.#onFailure(err, event);
      this.#pending.set(event.id, event);
      this.#schedule();
    }
  }

  /** Tries every pending event once; returns how many are still pending. */
  async retryNow(): Promise<number> {
    for (const event of [...this.#pending.values()]) {
      try {
        await this.#store.settle(event);
        this.#pending.delete(event.id);
      } catch (err) {
        this.#onFailure(err, event);
        break;
      }
    }
    return this.#pending.size;
  }

  /** Last attempt at shutdown; what still fails goes to `file` (one event per line). */
  async close(file: string): Promise<number> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const left = await this.retryNow();
    if (left > 0) {
      const lines = [...this.#pending.values()].map((e) => JSON.stringify(toEventApiShape(e)) + '\n').join('');
      appendFileSync(file, lines);
    }
    return left;
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.retryNow().then((left) => {
        this.#delay = left > 0 ? Math.min(this.#delay * 2, this.#max) : this.#base;
        if (left > 0) this.#schedule();
      });
    }, this.#delay);
    this.#timer.unref();
  }
}

/** The event API's shape, so a spilled file can be re-sent with curl. */
function toEventApiShape(event: UsageEvent): Record<string, unknown> {
  const cost = event.cost_nano;
  return {
    id: event.id,
    time: event.time.toISOString(),
    source: `pertoken-spill:${event.source}`,
    tenant: event.tenant,
    ...(event.project ? { project: event.project } : {}),
    ...(event.user ? { user: event.user } : {}),
    ...(event.feature ? { feature: event.feature } : {}),
    ...(event.key_id ? { key_id: event.key_id } : {}),
    ...(event.trace_id ? { trace_id: event.trace_id } : {}),
    tags: event.tags,
    provider: event.provider,
    model: event.model,
    requested_model: event.requested_model,
    route: event.route,
    status: event.status,
    streamed: event.streamed,
    tokens: event.buckets,
    ...(cost !== null ? { cost_usd: formatUsd(cost) } : {}),
    raw_usage: event.raw_usage,
  };
}
