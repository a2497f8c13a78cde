import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loadWireBuffer, type WireFixtureName } from '../../test/fixtures/wire/index.js';
import { listenEphemeral } from './harness.js';

/**
 * An upstream of both wires that answers every call it gets with a recorded trace of that route
 * (test/fixtures/wire), streamed when the forwarded body asks for a stream: a 200 whatever the
 * request said. Behind the gateway it makes any 4xx or 5xx a client sees the gateway's own.
 */
export interface ScriptedUpstream {
  url: string;
  /** Calls received, by path. */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

/** Path on the upstream -> [non-streaming reply, streaming reply]. */
const REPLIES: Record<string, [WireFixtureName | string, WireFixtureName | string]> = {
  '/v1/chat/completions': ['openai-chat-o-series.json', 'openai-chat-stream-usage.sse'],
  '/v1/completions': ['openai-completions.json', 'openai-completions-stream.sse'],
  '/v1/responses': ['openai-responses.json', 'openai-responses-stream.sse'],
  '/v1/embeddings': ['openai-embeddings.json', 'openai-embeddings.json'],
  '/v1/messages': ['anthropic-messages-cache.json', 'anthropic-stream-thinking.sse'],
};

const LITERAL: Record<string, string> = {
  '/v1/messages/count_tokens': '{"input_tokens":12}',
  '/v1/models': '{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}',
};

function wantsStream(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { stream?: unknown } | null;
    return parsed !== null && typeof parsed === 'object' && parsed.stream === true;
  } catch {
    return false;
  }
}

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const calls = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      calls.set(path, (calls.get(path) ?? 0) + 1);
      const literal = LITERAL[path];
      const reply = REPLIES[path];
      if (literal === undefined && reply === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such route"}}');
        return;
      }
      const name =
        literal === undefined ? (reply as [string, string])[wantsStream(Buffer.concat(chunks)) ? 1 : 0] : null;
      const bytes = name === null ? Buffer.from(literal as string) : loadWireBuffer(name as WireFixtureName);
      const sse = name?.endsWith('.sse') === true;
      res.writeHead(200, {
        'content-type': sse ? 'text/event-stream; charset=utf-8' : 'application/json',
        'content-length': bytes.length,
      });
      res.end(bytes);
    });
  });
  const port = await listenEphemeral(server);
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
