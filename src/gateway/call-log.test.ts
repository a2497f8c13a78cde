import { createServer } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type Harness } from '../testing/harness.js';
import { memoryLog, type MemoryLog } from '../testing/log.js';

/**
 * One structured line per failed call, through the real app and the simulated upstream: an
 * upstream 5xx, a reset, a refused connection, a timeout, a cut stream. Each names the request
 * id the client got, and none holds a payload or a key. A call that went well logs nothing.
 */
let demo: DemoUpstream;
let gateway: Harness;
let logs: MemoryLog;

const PROMPT = 'Tell me about the lighthouse keeper';
const CLIENT_KEY = 'sk-client-secret-123';

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 2, itlMs: 1, seed: 9 });
  logs = memoryLog();
  gateway = await startHarness({
    upstream: demo.url,
    log: logs.log,
    config: {
      upstreams: [
        {
          name: 'oa',
          kind: 'openai',
          base_url: `${demo.url}/v1`,
          api_key: 'sk-upstream-secret',
          timeouts: { first_byte_ms: 150, idle_ms: 150, connect_ms: 1000 },
        },
        { name: 'an', kind: 'anthropic', base_url: demo.url, api_key: 'sk-ant-upstream-secret' },
      ],
    },
  });
});
afterAll(async () => {
  await gateway.close();
  await demo.close();
});

async function send(base: string, fault: string | null, extra: Record<string, unknown> = {}) {
  const res = await request(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${CLIENT_KEY}`,
      'x-pertoken-tenant': 'logged-co',
      ...(fault ? { 'x-demo-fault': fault } : {}),
    },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      max_tokens: 20,
      messages: [{ role: 'user', content: PROMPT }],
      ...extra,
    }),
  });
  await res.body.text().catch(() => '');
  return { status: res.statusCode, id: String(res.headers['x-pertoken-request-id']) };
}

function linesOf(id: string, from: MemoryLog = logs): Array<Record<string, unknown>> {
  return from.lines().filter((l) => l.request_id === id);
}

const base = { route: 'openai.chat', tenant: 'logged-co', model: 'gpt-4o-mini', upstream: 'oa' };

describe('a failed call gets one structured line', () => {
  it('nothing for a call that went well', async () => {
    const { status, id } = await send(gateway.url, null);
    expect(status).toBe(200);
    expect(linesOf(id)).toEqual([]);
  });

  it('an upstream 5xx answer: warn, with its status', async () => {
    const { status, id } = await send(gateway.url, 'status:500');
    expect(status).toBe(500);
    expect(linesOf(id)).toEqual([
      expect.objectContaining({
        ...base,
        level: 40,
        status: 500,
        code: 'upstream_status',
        msg: 'upstream answered an error',
      }),
    ]);
    expect(typeof linesOf(id)[0]?.latency_ms).toBe('number');
    expect(typeof linesOf(id)[0]?.key_id).toBe('string');
  });

  it('an upstream 4xx answer is its answer to the caller: info', async () => {
    const { status, id } = await send(gateway.url, 'status:429');
    expect(status).toBe(429);
    expect(linesOf(id)).toEqual([
      expect.objectContaining({ ...base, level: 30, status: 429, code: 'upstream_status' }),
    ]);
  });

  it('a reset connection: warn, 502', async () => {
    const { status, id } = await send(gateway.url, 'reset');
    expect(status).toBe(502);
    expect(linesOf(id)).toEqual([
      expect.objectContaining({
        ...base,
        level: 40,
        status: 502,
        code: 'upstream_unreachable',
        msg: 'upstream failed',
      }),
    ]);
  });

  it('a first-byte timeout: warn, 504', async () => {
    const { status, id } = await send(gateway.url, 'slow-headers:1500');
    expect(status).toBe(504);
    expect(linesOf(id)).toEqual([
      expect.objectContaining({ ...base, level: 40, status: 504, code: 'upstream_timeout' }),
    ]);
  });

  it('a cut stream: warn, naming the cut', async () => {
    const { status, id } = await send(gateway.url, 'cut-after:3', { stream: true });
    expect(status).toBe(200);
    expect(linesOf(id)).toEqual([
      expect.objectContaining({ ...base, level: 40, status: 200, code: 'stream_cut', msg: 'upstream stream cut' }),
    ]);
  });

  it('a refused connection: warn, 502, said to be not sent and not billed', async () => {
    const port = await freePort();
    const deadLogs = memoryLog();
    const dead = await startHarness({ upstream: `http://127.0.0.1:${port}`, log: deadLogs.log });
    try {
      const { status, id } = await send(dead.url, null);
      expect(status).toBe(502);
      const [line, ...rest] = linesOf(id, deadLogs);
      expect(rest).toEqual([]);
      expect(line).toMatchObject({ ...base, level: 40, status: 502, code: 'upstream_unreachable' });
      expect(line?.reason).toMatch(/ECONNREFUSED.*not billed/);
    } finally {
      await dead.close();
    }
  });

  it('never logs a payload or a secret', () => {
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    for (const secret of [PROMPT, CLIENT_KEY, 'sk-upstream-secret', 'sk-ant-upstream-secret']) {
      expect(text).not.toContain(secret);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
