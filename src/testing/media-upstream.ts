import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenEphemeral } from './harness.js';

/**
 * A scripted OpenAI/Anthropic upstream for the routes the gateway passes through (images, audio,
 * moderation, stored responses, model lookups). It answers as the providers document, records
 * every request with the exact bytes it received, and can report the first bytes of a request
 * before that request has ended (to see a body being streamed rather than held).
 */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sha256: string;
  /** Multipart bodies, parsed by the platform's own FormData reader. */
  form: FormData | null;
}

export interface MediaUpstream {
  url: string;
  seen: SeenRequest[];
  /** Bytes received so far by requests still arriving, by path. */
  arriving: Map<string, number>;
  /** The audio bytes /audio/speech answers with. */
  audio: Buffer;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
};

function sse(res: ServerResponse, events: unknown[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end();
}

async function answer(seen: SeenRequest, res: ServerResponse, audio: Buffer): Promise<void> {
  const path = seen.path.split('?')[0] ?? '';
  const body = (): Record<string, unknown> => JSON.parse(seen.body.toString('utf8')) as Record<string, unknown>;
  if (path === '/v1/images/generations') {
    const { model, n } = body();
    if (model === 'gpt-image-1') {
      return json(res, 200, {
        created: 1,
        data: [{ b64_json: randomBytes(30_000).toString('base64') }],
        usage: {
          input_tokens: 60,
          input_tokens_details: { text_tokens: 50, image_tokens: 10 },
          output_tokens: 4160,
          total_tokens: 4220,
        },
      });
    }
    const count = typeof n === 'number' ? n : 1;
    return json(res, 200, { created: 1, data: Array.from({ length: count }, (_, i) => ({ url: `https://img/${i}` })) });
  }
  if (path === '/v1/images/edits') {
    return json(res, 400, {
      error: { type: 'invalid_request_error', code: null, message: 'image too small', param: 'image' },
    });
  }
  if (path === '/v1/audio/speech') {
    const { stream_format } = body();
    if (stream_format === 'sse') {
      return sse(res, [
        { type: 'speech.audio.delta', audio: audio.subarray(0, 64).toString('base64') },
        { type: 'speech.audio.done', usage: { input_tokens: 12, output_tokens: 300, total_tokens: 312 } },
      ]);
    }
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    for (let at = 0; at < audio.length; at += 8192) res.write(audio.subarray(at, at + 8192));
    return void res.end();
  }
  if (path === '/v1/audio/transcriptions' || path === '/v1/audio/translations') {
    const model = seen.form?.get('model');
    const format = seen.form?.get('response_format') ?? 'json';
    if (format === 'text') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('hello there\n');
      return;
    }
    if (model === 'gpt-4o-transcribe') {
      if (seen.form?.get('stream') === 'true') {
        return sse(res, [
          { type: 'transcript.text.delta', delta: 'hello' },
          {
            type: 'transcript.text.done',
            text: 'hello',
            usage: {
              type: 'tokens',
              input_tokens: 120,
              input_token_details: { text_tokens: 20, audio_tokens: 100 },
              output_tokens: 40,
              total_tokens: 160,
            },
          },
        ]);
      }
      return json(res, 200, {
        text: 'hello there',
        usage: {
          type: 'tokens',
          input_tokens: 120,
          input_token_details: { text_tokens: 20, audio_tokens: 100 },
          output_tokens: 40,
          total_tokens: 160,
        },
      });
    }
    return json(res, 200, { text: 'hello there', usage: { type: 'duration', seconds: 125 } });
  }
  if (path === '/v1/moderations') {
    return json(res, 200, {
      id: 'modr-1',
      model: 'omni-moderation-2024-09-26',
      results: [{ flagged: false, categories: {}, category_scores: {} }],
    });
  }
  const response = /^\/v1\/responses\/([^/]+)$/.exec(path);
  if (response && seen.method === 'GET') {
    return json(res, 200, {
      id: decodeURIComponent(response[1] ?? ''),
      object: 'response',
      created_at: 1,
      status: 'completed',
      model: 'gpt-4o-mini',
      output: [
        {
          type: 'message',
          id: 'msg_1',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'stored', annotations: [] }],
        },
      ],
      usage: { input_tokens: 5, output_tokens: 1, total_tokens: 6 },
    });
  }
  const model = /^\/v1\/models\/([^/]+)$/.exec(path);
  if (model) {
    const id = decodeURIComponent(model[1] ?? '');
    if (seen.headers['x-api-key'])
      return json(res, 200, { type: 'model', id, display_name: 'Claude', created_at: '2025-09-29T00:00:00Z' });
    return json(res, 200, { id, object: 'model', created: 1, owned_by: 'openai' });
  }
  json(res, 404, {
    error: { type: 'invalid_request_error', code: 'unknown_url', message: `no ${seen.method} ${path}`, param: null },
  });
}

export async function startMediaUpstream(): Promise<MediaUpstream> {
  const seen: SeenRequest[] = [];
  const arriving = new Map<string, number>();
  const audio = randomBytes(100_000);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    const path = req.url ?? '';
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      arriving.set(path, (arriving.get(path) ?? 0) + c.length);
    });
    req.on('end', () => {
      arriving.delete(path);
      void (async () => {
        const body = Buffer.concat(chunks);
        const type = String(req.headers['content-type'] ?? '');
        const form = type.startsWith('multipart/form-data')
          ? await new Response(body, { headers: { 'content-type': type } }).formData()
          : null;
        const request: SeenRequest = {
          method: req.method ?? 'GET',
          path,
          headers: req.headers,
          body,
          sha256: createHash('sha256').update(body).digest('hex'),
          form,
        };
        seen.push(request);
        await answer(request, res, audio);
      })().catch((err: unknown) => json(res, 500, { error: { message: String(err) } }));
    });
  });
  const port = await listenEphemeral(server);
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    arriving,
    audio,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
