import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL for outage tests (excluded from the build).
 *
 * - `forward`: pipes every connection to the target.
 * - `refuse`: stops listening (new connections get ECONNREFUSED) and resets every open
 *   connection — PostgreSQL restarting or a firewall rejecting.
 * - `blackhole`: keeps accepting but moves no bytes, on new and open connections alike — a
 *   silent network partition; clients only notice through their own timeouts. Bytes sent
 *   meanwhile wait (TCP retransmits through a partition shorter than its timeout) and arrive
 *   when forwarding resumes: a COMMIT sent into the partition may commit after its client gave up.
 */

export type ProxyMode = 'forward' | 'refuse' | 'blackhole';

interface Pair {
  client: Socket;
  upstream: Socket | null;
}

export class TcpProxy {
  readonly #targetHost: string;
  readonly #targetPort: number;
  #server: Server | null = null;
  #port = 0;
  #mode: ProxyMode = 'forward';
  readonly #pairs = new Set<Pair>();
  #trigger: ((chunk: Buffer) => boolean) | null = null;
  /** Connections accepted so far (tests check that clients really went through the proxy). */
  accepted = 0;

  constructor(target: { host: string; port: number }) {
    this.#targetHost = target.host;
    this.#targetPort = target.port;
  }

  get port(): number {
    return this.#port;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** postgres URL through the proxy, keeping the user, database and parameters of `url`. */
  url(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.#port);
    return parsed.toString();
  }

  async start(port = 0): Promise<number> {
    const server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.#port = typeof address === 'object' && address !== null ? address.port : port;
    this.#server = server;
    return this.#port;
  }

  async setMode(mode: ProxyMode): Promise<void> {
    if (mode === this.#mode) return;
    const previous = this.#mode;
    this.#mode = mode;
    if (mode === 'refuse') {
      for (const pair of this.#pairs) this.#destroy(pair, true);
      await this.#stopListening();
      return;
    }
    if (previous === 'refuse') await this.start(this.#port);
    for (const pair of this.#pairs) {
      if (mode === 'blackhole') {
        pair.client.pause();
        pair.upstream?.pause();
      } else if (pair.upstream === null) {
        this.#connectUpstream(pair); // accepted during the blackhole
      } else {
        pair.upstream.resume();
        pair.client.resume();
      }
    }
  }

  /**
   * Forwards the next client message that `match`es, then blackholes at once: the server acts on
   * it but its reply never arrives (e.g. a COMMIT that commits while its client times out).
   */
  blackholeAfter(match: (chunk: Buffer) => boolean): void {
    this.#trigger = match;
  }

  /** Sets `mode` for `ms`, then forwards again. */
  async outage(mode: Exclude<ProxyMode, 'forward'>, ms: number): Promise<void> {
    await this.setMode(mode);
    await new Promise((r) => setTimeout(r, ms));
    await this.setMode('forward');
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs) this.#destroy(pair, false);
    await this.#stopListening();
  }

  #accept(client: Socket): void {
    this.accepted++;
    const pair: Pair = { client, upstream: null };
    this.#pairs.add(pair);
    client.on('error', () => this.#destroy(pair, false));
    client.on('close', () => this.#destroy(pair, false));
    client.on('data', (chunk: Buffer) => {
      pair.upstream?.write(chunk);
      if (this.#trigger?.(chunk)) {
        this.#trigger = null;
        void this.setMode('blackhole'); // pauses every socket before this tick ends
      }
    });
    client.pause(); // until the upstream is connected
    if (this.#mode === 'forward') this.#connectUpstream(pair);
  }

  #connectUpstream(pair: Pair): void {
    const upstream = connect(this.#targetPort, this.#targetHost);
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => pair.client.write(chunk));
    upstream.on('error', () => this.#destroy(pair, false));
    upstream.on('close', () => this.#destroy(pair, false));
    upstream.once('connect', () => {
      if (this.#mode === 'forward') pair.client.resume();
      else upstream.pause();
    });
  }

  #destroy(pair: Pair, reset: boolean): void {
    if (!this.#pairs.delete(pair)) return;
    if (reset && !pair.client.destroyed) pair.client.resetAndDestroy();
    else pair.client.destroy();
    pair.upstream?.destroy();
  }

  #stopListening(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
