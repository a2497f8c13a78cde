/**
 * A TCP proxy for outage tests: forwards to a target until told to refuse (every connection is
 * closed at once, new ones too: what a stopped Redis looks like) or to blackhole (connections
 * stay open but nothing gets through in either direction: a network partition, the case that
 * only timeouts can detect). Switching back to `forward` closes blackholed connections so
 * clients reconnect through a working path.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'refuse' | 'blackhole';

export interface TcpProxy {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (or the target URL's scheme) through the proxy. */
  readonly url: string;
  readonly mode: ProxyMode;
  setMode(mode: ProxyMode): void;
  /**
   * Silences the connections open now while new ones still forward (one socket goes quiet).
   * `replies` lets requests through and drops only answers: a reply lost after the server acted.
   */
  silenceExisting(what?: 'both' | 'replies'): void;
  /** Connections accepted so far (to check a client really reconnected). */
  readonly accepted: number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  blackholed: boolean;
  repliesDropped: boolean;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<Pair>();
  let mode: ProxyMode = 'forward';
  let accepted = 0;

  const drop = (pair: Pair): void => {
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };

  const server: Server = createServer((client) => {
    accepted++;
    const pair: Pair = { client, upstream: undefined, blackholed: mode === 'blackhole', repliesDropped: false };
    pairs.add(pair);
    client.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    if (mode === 'refuse') return drop(pair);
    if (pair.blackholed) return; // accepted, never answered
    const upstream = connect(Number(target.port || 6379), target.hostname);
    pair.upstream = upstream;
    upstream.on('error', () => drop(pair));
    upstream.on('close', () => drop(pair));
    client.on('data', (data) => {
      if (!pair.blackholed) upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (!pair.blackholed && !pair.repliesDropped) client.write(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');

  return {
    port: address.port,
    url: `${target.protocol}//127.0.0.1:${address.port}`,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    setMode(next) {
      mode = next;
      for (const pair of [...pairs]) {
        if (next === 'refuse' || (next === 'forward' && pair.blackholed)) drop(pair);
        else if (next === 'blackhole') pair.blackholed = true;
      }
    },
    silenceExisting(what = 'both') {
      for (const pair of pairs) {
        if (what === 'both') pair.blackholed = true;
        else pair.repliesDropped = true;
      }
    },
    async close() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
