import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from './demo/index.js';
import { createSqliteStore } from './ledger/index.js';
import { spawnServe, writeUpstreamConfig } from './testing/child.js';

/**
 * The durability promise of DESIGN §6, tested on a real process: kill -9 under load loses no
 * request whose response the client saw complete, doubles nothing, and marks the rest.
 */
let demo: DemoUpstream;
const dirs: string[] = [];

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 20, itlMs: 4, seed: 5 });
});
afterAll(async () => {
  await demo.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pertoken-durability-'));
  dirs.push(dir);
  return dir;
}

interface Outcome {
  id: string | null;
  completed: boolean;
}

/** One streamed chat call; `completed` only when [DONE] arrived and the body ended cleanly. */
async function streamCall(pool: Pool, maxTokens: number, onFirstByte: () => void): Promise<Outcome> {
  let id: string | null = null;
  try {
    const res = await pool.request({
      path: '/v1/chat/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pertoken-tenant': 'durability' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        max_tokens: maxTokens,
        messages: [{ role: 'user', content: 'Tell me about tides' }],
      }),
    });
    id = String(res.headers['x-pertoken-request-id']);
    let text = '';
    let first = true;
    for await (const chunk of res.body) {
      if (first) onFirstByte();
      first = false;
      text += chunk.toString();
    }
    return { id, completed: text.includes('data: [DONE]') };
  } catch {
    return { id, completed: false };
  }
}

async function readLedger(dataDir: string) {
  const store = createSqliteStore({ path: join(dataDir, 'ledger.sqlite') });
  await store.migrate();
  const events = [];
  let cursor: string | undefined;
  do {
    const page = await store.listEvents({ filter: {}, limit: 1000, ...(cursor ? { cursor } : {}) });
    events.push(...page.events);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  const totals = await store.queryCosts({
    from: new Date(0),
    to: new Date(Date.now() + 3_600_000),
    groupBy: [],
    filter: {},
  });
  await store.close();
  return { events, rolledUpRequests: totals.reduce((n, r) => n + r.requests, 0) };
}

describe('kill -9 under 200 concurrent streams', () => {
  it('keeps every completed request exactly once and marks the interrupted ones', async () => {
    const dataDir = tempDir();
    const config = writeUpstreamConfig(dataDir, demo.url);
    const server = await spawnServe(['--config', config, '--data-dir', dataDir]);
    const pool = new Pool(server.url, { connections: 200 });

    let done = 0;
    let killed = false;
    const calls = Array.from({ length: 200 }, (_, i) =>
      streamCall(pool, 40 + (i % 5) * 40, () => undefined).then((outcome) => {
        done++;
        // Kill once a quarter completed: the rest are mid-flight at every stage.
        if (done === 50 && !killed) {
          killed = true;
          server.proc.kill('SIGKILL');
        }
        return outcome;
      }),
    );
    const outcomes = await Promise.all(calls);
    await server.exited;
    await pool.close();
    expect(killed).toBe(true);

    const completed = outcomes.filter((o) => o.completed);
    expect(completed.length).toBeGreaterThanOrEqual(50);
    expect(completed.length).toBeLessThan(200);

    // Restart: recovery settles the open reservations before serving.
    const again = await spawnServe(['--config', config, '--data-dir', dataDir]);
    again.proc.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(again.stderr()).toBe('');

    const { events, rolledUpRequests } = await readLedger(dataDir);
    const byId = new Map(events.map((e) => [e.id, e]));
    expect(byId.size).toBe(events.length);
    for (const outcome of completed) {
      expect(byId.get(outcome.id ?? '')?.status).toBe('ok');
    }
    const interrupted = events.filter((e) => e.status === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    for (const event of interrupted) {
      expect(event.origin).toBe('recovery');
      expect(event.usage_source).toBe('estimated');
      expect(event.cost_nano).toBeGreaterThan(0n);
    }
    // Every call that got a request id is in the ledger once: completed, settled or recovered.
    for (const outcome of outcomes.filter((o) => o.id !== null)) expect(byId.has(outcome.id ?? '')).toBe(true);
    expect(events.every((e) => e.status === 'ok' || e.status === 'interrupted')).toBe(true);
    expect(rolledUpRequests).toBe(events.length);

    // A second restart finds nothing left to recover and changes nothing.
    const third = await spawnServe(['--config', config, '--data-dir', dataDir]);
    third.proc.kill('SIGTERM');
    await third.exited;
    expect((await readLedger(dataDir)).events.length).toBe(events.length);
  });
});

describe('SIGTERM', () => {
  it('drains in-flight streams to completion before exiting', async () => {
    const dataDir = tempDir();
    const server = await spawnServe(['--config', writeUpstreamConfig(dataDir, demo.url), '--data-dir', dataDir]);
    const pool = new Pool(server.url, { connections: 30 });
    let started = 0;
    let signalled = false;
    const calls = Array.from({ length: 30 }, () =>
      streamCall(pool, 150, () => {
        if (++started === 30 && !signalled) {
          signalled = true;
          server.proc.kill('SIGTERM');
        }
      }),
    );
    const outcomes = await Promise.all(calls);
    expect(await server.exited).toBe(0);
    await pool.close();
    expect(signalled).toBe(true);
    expect(outcomes.every((o) => o.completed)).toBe(true);
    const { events } = await readLedger(dataDir);
    expect(events).toHaveLength(30);
    expect(events.every((e) => e.status === 'ok' && e.buckets.output === 150)).toBe(true);
  });

  it('refuses a bad config at start with the field path, exit code 1', async () => {
    const dataDir = tempDir();
    const config = writeUpstreamConfig(dataDir, demo.url, 'routes:\n  - { match: "*", upstream: missing }\n');
    await expect(spawnServe(['--config', config, '--data-dir', dataDir])).rejects.toThrow(
      /routes\[0\]\.upstream: no upstream named "missing"/,
    );
  });
});
