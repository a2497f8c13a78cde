import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config/index.js';
import { startPertoken, type RunningServer } from './server.js';
import { startReplayUpstream, type ReplayUpstream } from './testing/harness.js';

/**
 * What an attacker tries against a running `pertoken serve` (real sockets, the process wiring):
 * request smuggling, oversize heads and bodies, slow clients, steering the call to another host,
 * and fishing secrets out of the log. Each must be refused without reaching the upstream.
 */
const ADMIN_TOKEN = 'admin-token-abuse-0123456789';
const KEY = 'pt-abuse-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const UPSTREAM_SECRET = 'sk-upstream-abuse-secret-987654321';
const COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  }),
);

let dir: string;
let upstream: ReplayUpstream;
/** Stands for any host an attacker would like pertoken to call: it must never be reached. */
let elsewhere: ReplayUpstream;
let server: RunningServer;
const logLines: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-abuse-'));
  upstream = await startReplayUpstream(() => COMPLETION);
  elsewhere = await startReplayUpstream(() => COMPLETION);
  const config = parseConfig(
    {
      server: { max_body_bytes: 64 * 1024, headers_timeout_ms: 600, request_timeout_ms: 1200 },
      upstreams: [{ name: 'oa', kind: 'openai', base_url: `${upstream.url}/v1`, api_key: UPSTREAM_SECRET }],
      tenants: [{ id: 'abuse' }],
      keys: [{ id: 'abuse', tenant: 'abuse', scopes: ['chat', 'read'], key: '${ABUSE_KEY}' }],
    },
    { ABUSE_KEY: KEY },
  );
  const log = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
  server = await startPertoken({
    config,
    env: { PERTOKEN_ADMIN_TOKEN: ADMIN_TOKEN },
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    log,
  });
});
afterAll(async () => {
  await server?.shutdown();
  await upstream?.close();
  await elsewhere?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes raw bytes (optionally in timed pieces) and returns what came back before the socket closed. */
function raw(pieces: Array<string | Buffer>, gapMs = 0): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    let closed = false;
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      resolve(Buffer.concat(received).toString('latin1'));
    });
    socket.on('connect', () => {
      let i = 0;
      const next = (): void => {
        if (closed || i >= pieces.length) return;
        socket.write(pieces[i++] as string | Buffer);
        if (gapMs > 0) setTimeout(next, gapMs);
        else next();
      };
      next();
    });
    // Bounded: a server that never closes fails the test instead of hanging it.
    setTimeout(() => {
      if (!closed) {
        socket.destroy();
        reject(new Error(`socket still open; received ${Buffer.concat(received).toString('latin1').slice(0, 200)}`));
      }
    }, 15_000);
  });
}

const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

describe('the HTTP front door', () => {
  it('refuses Content-Length together with Transfer-Encoding (request smuggling) before anything is forwarded', async () => {
    const before = upstream.seen.length;
    const smuggled =
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` +
      `GET /api/v1/costs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const response = await raw([smuggled]);
    expect(statusOf(response)).toBe(400);
    // One answer only: the smuggled second request was never parsed.
    expect(response.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(upstream.seen.length).toBe(before);
  });

  it('answers 431 to a request head over the header limit', async () => {
    const response = await raw([
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'a'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\n{}`,
    ]);
    expect(statusOf(response)).toBe(431);
  });

  it('answers 413 to a body over server.max_body_bytes without calling the upstream', async () => {
    const before = upstream.seen.length;
    const big = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] });
    const res = await request(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: big,
    });
    const json = (await res.body.json()) as { error: { code: string } };
    expect(res.statusCode).toBe(413);
    expect(json.error.code).toBe('body_too_large');
    expect(upstream.seen.length).toBe(before);
  });

  it('cuts off a client that trickles its request head (server.headers_timeout_ms)', async () => {
    const before = upstream.seen.length;
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY}\r\n`;
    // 60 one-byte pieces 100 ms apart would take 6 s: the server closes the socket long before.
    const response = await raw([...head.slice(0, 60)], 100);
    expect([0, 408]).toContain(statusOf(response));
    expect(upstream.seen.length).toBe(before);
  });

  it('cuts off a client that trickles its body (server.request_timeout_ms) and bills nothing', async () => {
    const before = upstream.seen.length;
    const eventsBefore = (await server.store.listEvents({ filter: {}, limit: 1000 })).events.length;
    const head =
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const response = await raw([head, ...body.slice(0, 40)], 100);
    expect([0, 408]).toContain(statusOf(response));
    expect(upstream.seen.length).toBe(before);
    expect((await server.store.listEvents({ filter: {}, limit: 1000 })).events.length).toBe(eventsBefore);
  });
});

describe('nothing in a request chooses where pertoken connects', () => {
  it.each([
    ['an absolute-form request target', (url: string) => ({ path: `${url}/v1/chat/completions`, headers: {} })],
    [
      'a Host header naming another server',
      (url: string) => ({ path: '/v1/chat/completions', headers: { host: new URL(url).host } }),
    ],
    [
      'forwarding headers',
      (url: string) => ({
        path: '/v1/chat/completions',
        headers: {
          'x-forwarded-host': new URL(url).host,
          'x-pertoken-upstream': url,
          'x-original-url': url,
          forwarded: `host=${new URL(url).host}`,
        },
      }),
    ],
  ])('%s', async (_name, make) => {
    const { path, headers } = make(elsewhere.url);
    const reply = await rawRequest(
      path,
      headers,
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect([200, 404]).toContain(reply);
    expect(elsewhere.seen).toHaveLength(0);
  });

  it('a model name shaped like a URL or a path is sent to the configured upstream, never dialled', async () => {
    const before = upstream.seen.length;
    for (const model of [`${elsewhere.url}/v1`, '../../admin', '//127.0.0.1:1/x', 'gpt-4o-mini#@evil']) {
      const status = await rawRequest(
        '/v1/chat/completions',
        {},
        JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      );
      expect(status).toBeLessThan(500);
    }
    expect(elsewhere.seen).toHaveLength(0);
    expect(upstream.seen.every((s) => s.path === '/v1/chat/completions')).toBe(true);
    expect(upstream.seen.length).toBeGreaterThan(before);
  });
});

async function rawRequest(target: string, headers: Record<string, string>, payload: string): Promise<number> {
  const lines = [
    `POST ${target} HTTP/1.1`,
    `Host: ${headers.host ?? '127.0.0.1'}`,
    `Authorization: Bearer ${KEY}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(payload)}`,
    'Connection: close',
    ...Object.entries(headers)
      .filter(([name]) => name !== 'host')
      .map(([name, value]) => `${name}: ${value}`),
  ];
  return statusOf(await raw([`${lines.join('\r\n')}\r\n\r\n${payload}`]));
}

describe('secrets never reach the log or a reply', () => {
  it('keeps the admin token, virtual keys and upstream keys out of every log line, at trace level', async () => {
    const wrong = 'pt-abuse-WRONGWRONGWRONGWRONGWRONG00';
    const send = (auth: Record<string, string>, payload: string) =>
      request(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: payload,
      }).then(async (r) => ({ status: r.statusCode, text: await r.body.text() }));
    const replies = [
      await send({ authorization: `Bearer ${KEY}` }, body),
      await send({ 'x-api-key': KEY }, body),
      await send({ authorization: `Bearer ${wrong}` }, body),
      await send({ authorization: `Bearer ${ADMIN_TOKEN}` }, body),
      await send({ authorization: `Bearer ${KEY}` }, '{"model": "gpt-4o-mini", "messages": ['),
      await send({ authorization: `Bearer ${KEY}`, 'x-pertoken-tenant': 'x'.repeat(500) }, body),
    ];
    const costs = await request(`${server.url}/api/v1/costs?group_by=tenant`, {
      headers: { authorization: `Bearer ${wrong}` },
    });
    replies.push({ status: costs.statusCode, text: await costs.body.text() });

    expect(replies.map((r) => r.status)).toEqual([200, 200, 401, 401, 400, 400, 401]);
    const everything = [...logLines, ...replies.map((r) => r.text)].join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of [KEY, wrong, ADMIN_TOKEN, UPSTREAM_SECRET, KEY.slice(-24), ADMIN_TOKEN.slice(-16)])
      expect(everything).not.toContain(secret);
    // The upstream got its own key, never the caller's.
    const last = upstream.seen.at(-1);
    expect(last?.headers.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
    expect(JSON.stringify(last?.headers)).not.toContain(KEY);
  });
});
