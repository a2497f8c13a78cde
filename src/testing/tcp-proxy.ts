import { connect, createServer, type Server, type Socket } from 'node:net';
import { serverAddress } from './net.js';

/**
 * A TCP proxy in front of PostgreSQL or Redis for outage tests (excluded from the build): what a
 * client sees when its server stops, the network partitions, or a reply goes missing.
 *
 * Modes, for every connection at once:
 * - `forward`: bytes flow both ways.
 * - `refuse`: stops listening (new connections get ECONNREFUSED) and resets every open
 *   connection: the server stopped, or a firewall rejecting.
 * - `blackhole`: keeps accepting but moves no bytes, on new and open connections alike: a silent
 *   network partition, which clients only notice through their own timeouts. Bytes sent meanwhile
 *   wait (TCP retransmits through a partition shorter than its timeout) and arrive when
 *   forwarding resumes: a COMMIT sent into the partition may commit after its client gave up.
 *
 * Narrower faults:
 * - `blackholeAfter(match)`: the next matching client message reaches the server, its reply does
 *   not (the server acted, the client cannot know).
 * - `silenceExisting()`: the connections open now lose their bytes for good (a NAT or load
 *   balancer forgot them) while new connections forward; a client must notice and reconnect.
 */

export type ProxyMode = 'forward' | 'refuse' | 'blackhole';

export interface TcpProxy {
  readonly port: number;
  /** The target URL pointed at the proxy, keeping its scheme, user, database and parameters. */
  readonly url: string;
  readonly mode: ProxyMode;
  /** Connections accepted so far (tests check that clients really went through, or reconnected). */
  readonly accepted: number;
  setMode(mode: ProxyMode): Promise<void>;
  /** Sets `mode` for `ms`, then forwards again. */
  outage(mode: Exclude<ProxyMode, 'forward'>, ms: number): Promise<void>;
  /** Forwards the next client message that `match`es, then blackholes at once. */
  blackholeAfter(match: (chunk: Buffer) => boolean): void;
  /**
   * The connections open now drop every byte from here on (`replies`: only the server's answers,
   * so requests still run: a reply lost after the server acted). New connections forward.
   */
  silenceExisting(what?: 'both' | 'replies'): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port) to the host and port of `targetUrl`. */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const proxy = new ProxyServer(new URL(targetUrl));
  await proxy.listen(0);
  return proxy;
}

interface Pair {
  client: Socket;
  upstream: Socket | null;
  /** What silenceExisting made this connection lose: dropped, never delivered later. */
  loses: 'nothing' | 'both' | 'replies';
}

class ProxyServer implements TcpProxy {
  readonly #target: URL;
  readonly #targetHost: string;
  readonly #targetPort: number;
  #server: Server | null = null;
  #port = 0;
  #mode: ProxyMode = 'forward';
  readonly #pairs = new Set<Pair>();
  #trigger: ((chunk: Buffer) => boolean) | null = null;
  #accepted = 0;

  constructor(target: URL) {
    const { host, port } = serverAddress(target);
    this.#target = target;
    this.#targetHost = host;
    this.#targetPort = port;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    const url = new URL(this.#target);
    url.hostname = '127.0.0.1';
    url.port = String(this.#port);
    return url.toString();
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  get accepted(): number {
    return this.#accepted;
  }

  /** Listens on `port` (0: a free one); again on the same port when a refusal ends. */
  async listen(port: number): Promise<void> {
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
  }

  async setMode(mode: ProxyMode): Promise<void> {
    // Healing ends the fault window: a blackholeAfter that found no match in it must not fire
    // later, or the proxy would blackhole for good after the test has moved on.
    if (mode === 'forward') this.#trigger = null;
    if (mode === this.#mode) return;
    const previous = this.#mode;
    this.#mode = mode;
    if (mode === 'refuse') {
      for (const pair of this.#pairs) this.#destroy(pair, true);
      await this.#stopListening();
      return;
    }
    if (previous === 'refuse') await this.listen(this.#port);
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

  async outage(mode: Exclude<ProxyMode, 'forward'>, ms: number): Promise<void> {
    await this.setMode(mode);
    await new Promise((resolve) => setTimeout(resolve, ms));
    await this.setMode('forward');
  }

  blackholeAfter(match: (chunk: Buffer) => boolean): void {
    this.#trigger = match;
  }

  silenceExisting(what: 'both' | 'replies' = 'both'): void {
    for (const pair of this.#pairs) if (pair.loses !== 'both') pair.loses = what;
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs) this.#destroy(pair, false);
    await this.#stopListening();
  }

  #accept(client: Socket): void {
    this.#accepted++;
    const pair: Pair = { client, upstream: null, loses: 'nothing' };
    this.#pairs.add(pair);
    client.on('error', () => this.#destroy(pair, false));
    client.on('close', () => this.#destroy(pair, false));
    client.on('data', (chunk: Buffer) => {
      if (pair.loses !== 'both') pair.upstream?.write(chunk);
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
    upstream.on('data', (chunk: Buffer) => {
      if (pair.loses === 'nothing') pair.client.write(chunk);
    });
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
