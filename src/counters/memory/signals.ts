/** Versioned topics inside one process: a map of versions and a set of listeners per topic. */
import type { SignalListener, Signals } from '../types.js';
import type { Tally } from './tally.js';

export class MemorySignals implements Signals {
  readonly #versions = new Map<string, number>();
  readonly #listeners = new Map<string, Set<SignalListener>>();
  readonly #tally: Tally;

  constructor(tally: Tally) {
    this.#tally = tally;
  }

  async bump(topic: string): Promise<number> {
    this.#tally.calls++;
    const version = (this.#versions.get(topic) ?? 0) + 1;
    this.#versions.set(topic, version);
    for (const listener of this.#listeners.get(topic) ?? []) {
      // A listener's failure must not stop the others or the bump that caused it.
      queueMicrotask(() => {
        try {
          listener(version);
        } catch {
          /* listeners own their errors */
        }
      });
    }
    return version;
  }

  async version(topic: string): Promise<number> {
    this.#tally.calls++;
    return this.#versions.get(topic) ?? 0;
  }

  async watch(topic: string, listener: SignalListener): Promise<() => Promise<void>> {
    this.#tally.calls++;
    let set = this.#listeners.get(topic);
    if (!set) {
      set = new Set();
      this.#listeners.set(topic, set);
    }
    set.add(listener);
    return async () => {
      set.delete(listener);
    };
  }
}
