/**
 * Signals on Redis: a version counter per topic plus a pub/sub message on every bump.
 *
 * Pub/sub is fast but lossy (a message sent while a subscriber reconnects is gone), so the
 * version is also re-read on every subscriber reconnect and, as a backstop for a silently dead
 * subscriber socket, polled every `pollMs` while anything is watched (the same tick pings the
 * subscriber, so a silent one is replaced). A listener fires when the
 * observed version changes, whichever path saw it first; it may rarely fire twice for one bump
 * (a poll racing a message), and a version that went backwards (Redis lost its data) also
 * counts as a change, since for cache invalidation an extra call is harmless and a missed one
 * is not.
 */
import type { Redis } from 'ioredis';
import type { SignalListener, Signals } from '../types.js';
import type { RedisConnection } from './connection.js';
import { asNumber } from './replies.js';

interface Topic {
  channel: string;
  versionKey: string;
  seen: number;
  listeners: Set<SignalListener>;
}

export class RedisSignals implements Signals {
  readonly #topics = new Map<string, Topic>();
  readonly #byChannel = new Map<string, Topic>();
  #subscriber: Redis | undefined;
  #poller: NodeJS.Timeout | undefined;
  #polling = false;
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #pollMs: number;

  constructor(connection: RedisConnection, prefix: string, pollMs: number) {
    this.#connection = connection;
    this.#prefix = prefix;
    this.#pollMs = pollMs;
  }

  async bump(topic: string): Promise<number> {
    const { versionKey, channel } = this.#names(topic);
    const reply = await this.#connection.run((c) => c.ptBump(1, versionKey, channel));
    return asNumber(reply, 'version');
  }

  async version(topic: string): Promise<number> {
    const { versionKey } = this.#names(topic);
    const value = await this.#connection.run((c) => c.get(versionKey));
    return value === null ? 0 : Number(value);
  }

  async watch(topic: string, listener: SignalListener): Promise<() => Promise<void>> {
    let entry = this.#topics.get(topic);
    if (!entry) {
      entry = { ...this.#names(topic), seen: await this.version(topic).catch(() => 0), listeners: new Set() };
      this.#topics.set(topic, entry);
      this.#byChannel.set(entry.channel, entry);
      await this.#subscribe(entry.channel);
    }
    entry.listeners.add(listener);
    this.#startPolling();
    const watched = entry;
    return async () => {
      watched.listeners.delete(listener);
      if (watched.listeners.size > 0) return;
      this.#topics.delete(topic);
      this.#byChannel.delete(watched.channel);
      await this.#subscriber?.unsubscribe(watched.channel).catch(() => {});
      if (this.#topics.size === 0) this.#stopPolling();
    };
  }

  async close(): Promise<void> {
    this.#stopPolling();
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
  }

  #names(topic: string): { versionKey: string; channel: string } {
    return { versionKey: `${this.#prefix}sig:${topic}`, channel: `${this.#prefix}sig:${topic}` };
  }

  /** Subscribes now when connected; otherwise the next `ready` subscribes to every watched channel. */
  async #subscribe(channel: string): Promise<void> {
    const sub = this.#ensureSubscriber();
    if (sub.status === 'ready') await sub.subscribe(channel).catch(() => {});
  }

  #ensureSubscriber(): Redis {
    if (this.#subscriber) return this.#subscriber;
    const sub = this.#connection.duplicate();
    sub.on('message', (channel: string, message: string) => {
      const topic = this.#byChannel.get(channel);
      if (topic) this.#observe(topic, Number(message));
    });
    sub.on('ready', () => void this.#catchUp(sub));
    sub.connect().catch(() => {}); // retried in the background by retryStrategy
    this.#subscriber = sub;
    return sub;
  }

  /**
   * After the subscriber (re)connects: read the versions on that same socket (it is not in
   * subscriber mode yet, and the command connection may still be down), then subscribe. A bump
   * between the two is caught by the poll.
   */
  async #catchUp(sub: Redis): Promise<void> {
    const topics = [...this.#topics.values()];
    if (topics.length === 0) return;
    try {
      const values = await sub.mget(...topics.map((t) => t.versionKey));
      values.forEach((value, i) => this.#observe(topics[i]!, value === null ? 0 : Number(value)));
    } catch {
      /* the poll will catch up */
    }
    await sub.subscribe(...topics.map((t) => t.channel)).catch(() => {});
  }

  /** Re-reads every watched version through the command connection (the poll). */
  async #resync(): Promise<void> {
    const topics = [...this.#topics.values()];
    if (topics.length === 0) return;
    const values = await this.#connection.run((c) => c.mget(...topics.map((t) => t.versionKey))).catch(() => undefined);
    values?.forEach((value, i) => this.#observe(topics[i]!, value === null ? 0 : Number(value)));
  }

  /** A subscribed socket never sends commands, so only a ping notices it went silent. */
  async #checkSubscriber(): Promise<void> {
    const sub = this.#subscriber;
    if (sub?.status !== 'ready') return;
    try {
      await sub.ping();
    } catch {
      if (sub.status === 'ready') sub.disconnect(true); // reconnect; `ready` then catches up
    }
  }

  #observe(topic: Topic, version: number): void {
    if (!Number.isSafeInteger(version) || version === topic.seen) return;
    topic.seen = version;
    for (const listener of topic.listeners) {
      try {
        listener(version);
      } catch {
        /* listeners own their errors; one must not starve the others */
      }
    }
  }

  #startPolling(): void {
    if (this.#poller) return;
    this.#poller = setInterval(() => {
      if (this.#polling) return;
      this.#polling = true;
      void Promise.all([this.#resync(), this.#checkSubscriber()]).finally(() => {
        this.#polling = false;
      });
    }, this.#pollMs);
    this.#poller.unref();
  }

  #stopPolling(): void {
    clearInterval(this.#poller);
    this.#poller = undefined;
  }
}
