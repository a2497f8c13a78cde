import { createHash, type Hash } from 'node:crypto';

/**
 * The demo upstream's memory of prompt prefixes it has served, so that cached-token counts are only
 * ever reported for a prefix that really was sent before (a never-seen prompt reads 0). Entries are
 * opaque prefix keys with an expiry; the map is kept in least-recently-used order and bounded, so a
 * long-running demo server holds a fixed amount of memory however many distinct prompts it sees.
 */
export interface PromptCacheOptions {
  /** Most prefixes remembered; the least recently used one is forgotten first. Default 8192. */
  maxEntries?: number;
  /** Clock in milliseconds, for TTL expiry; injectable so tests never sleep. Default Date.now. */
  now?: () => number;
}

export const DEFAULT_PROMPT_CACHE_ENTRIES = 8192;

export class PromptCache {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(opts: PromptCacheOptions = {}) {
    this.#maxEntries = Math.max(1, Math.floor(opts.maxEntries ?? DEFAULT_PROMPT_CACHE_ENTRIES));
    this.#now = opts.now ?? Date.now;
  }

  /** Prefixes currently remembered (expired ones included until they are looked at or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `key` was remembered and has not expired; an expired entry is dropped on sight. */
  has(key: string): boolean {
    const expires = this.#entries.get(key);
    if (expires === undefined) return false;
    if (expires > this.#now()) return true;
    this.#entries.delete(key);
    return false;
  }

  /**
   * Remembers `key` for `ttlMs` from now, or refreshes it: a prefix in use stays cached, like both
   * providers' caches, and never loses time it already had (a 5m read of a 1h entry keeps the hour).
   */
  remember(key: string, ttlMs: number): void {
    const now = this.#now();
    const previous = this.#entries.get(key);
    const expires = Math.max(now + ttlMs, previous !== undefined && previous > now ? previous : 0);
    this.#entries.delete(key);
    this.#entries.set(key, expires);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** Forgets everything, so a test (or a demo) can start from a cold cache. */
  reset(): void {
    this.#entries.clear();
  }
}

/**
 * Incremental prefix keys: feed the prompt in order and take a key at any point, in O(prompt) total
 * rather than re-hashing each prefix. SHA-1 keeps keys short and collisions out of the question.
 */
export class PrefixHasher {
  readonly #hash: Hash;

  constructor(namespace: string) {
    this.#hash = createHash('sha1').update(namespace).update('\u0000');
  }

  update(text: string): void {
    this.#hash.update(text);
  }

  /** The key of everything fed so far; feeding may continue afterwards. */
  key(): string {
    return this.#hash.copy().digest('base64url');
  }
}
