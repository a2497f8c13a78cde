import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a test receiver saw it, and what it answered (0: it dropped the connection). */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/**
 * A local HTTP endpoint standing in for a webhook, Slack or Alertmanager receiver: `up` answers
 * 200, `down` 503, `drop` reads the request and closes the connection without an answer (the
 * receiver took it, the sender never learns: a lost 2xx).
 */
export class TestReceiver {
  mode: 'up' | 'down' | 'drop' = 'up';
  readonly received: Received[] = [];
  readonly #server: Server;
  #url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = this.mode === 'up' ? 200 : this.mode === 'down' ? 503 : 0;
        this.received.push({ path: req.url ?? '', headers: req.headers, body, status });
        if (status === 0) {
          req.socket.destroy();
          return;
        }
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'unavailable');
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#url;
  }

  get url(): string {
    return this.#url;
  }

  /** Requests it answered with a 2xx: what a receiver acted on. */
  accepted(): Received[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
