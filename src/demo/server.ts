import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDemoHandler } from './handler.js';
import type { DemoOptions } from './options.js';
import type { PromptCache } from './prompt-cache.js';

export interface DemoUpstream {
  /** `http://host:port`; OpenAI clients use `${url}/v1`, Anthropic clients use `url`. */
  url: string;
  port: number;
  /** Requests received so far. */
  readonly requests: number;
  /** Streaming responses currently open; back to 0 once every client has finished or left. */
  readonly openStreams: number;
  /** Requests currently being handled, streaming or not. */
  readonly inFlight: number;
  /** The prompt prefixes behind cached-token counts (`reset()` it for a cold cache). */
  readonly promptCache: PromptCache;
  /** Stops listening and destroys every open socket (stalled streams included). */
  close(): Promise<void>;
}

export async function startDemoUpstream(opts: DemoOptions = {}): Promise<DemoUpstream> {
  const handler = createDemoHandler(opts);
  // noDelay: a streamed chunk must leave at its due time, not wait for Nagle to coalesce it.
  const server = createServer({ noDelay: true }, handler);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    get requests() {
      return handler.requests;
    },
    get openStreams() {
      return handler.openStreams;
    },
    get inFlight() {
      return handler.inFlight;
    },
    promptCache: handler.promptCache,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
