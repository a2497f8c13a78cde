import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, createSqliteStore, newEventId, type UsageEvent } from '../ledger/index.js';
import { createTestSchema, postgresSkipReason, TEST_DATABASE_URL } from '../ledger/testing/dialects.js';
import { CLI } from '../testing/child.js';

const run = promisify(execFile);

async function pertoken(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = { ...process.env };
  delete clean.PERTOKEN_DATABASE_URL;
  delete clean.PERTOKEN_DATA_DIR;
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...clean, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function event(tenant: string, cost: bigint): UsageEvent {
  return {
    id: newEventId(),
    time: new Date(Date.UTC(2026, 10, 20, 10)),
    origin: 'api',
    source: 'test',
    tenant,
    project: null,
    user: null,
    feature: null,
    key_id: null,
    trace_id: null,
    tags: {},
    provider: 'openai',
    requested_model: 'gpt-4o',
    model: 'gpt-4o',
    route: 'event',
    status: 'ok',
    http_status: null,
    streamed: false,
    latency_ms: null,
    ttft_ms: null,
    buckets: { input: 10, output: 1 },
    usage_source: 'reported',
    cost_nano: cost,
    price_ref: null,
    raw_usage: null,
    usage_issues: [],
  };
}

const range = ['--from', '2026-11-20', '--to', '2026-11-21', '--group-by', 'tenant', '--format', 'json'];
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pertoken-open-'));
  const store = createSqliteStore({ path: join(dataDir, 'ledger.sqlite') });
  await store.migrate();
  await store.insertEvents([event('on-sqlite', 5n)]);
  await store.close();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('ledger commands open the configured store', () => {
  it('report refuses a data dir with no ledger, creates nothing, and names --data-dir', async () => {
    const missing = join(dataDir, 'typo');
    const reply = await pertoken({}, 'report', ...range, '--data-dir', missing);
    expect(reply.code).toBe(1);
    expect(reply.stderr).toMatch(/^error: --data-dir: no ledger at .*typo/);
    expect(existsSync(join(missing, 'ledger.sqlite'))).toBe(false);
    const fromEnv = await pertoken({ PERTOKEN_DATA_DIR: missing }, 'prune', '--older-than', '90d');
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toMatch(/^error: PERTOKEN_DATA_DIR: no ledger at/);
  });

  it('report reads the SQLite ledger it is pointed at', async () => {
    const reply = await pertoken({ PERTOKEN_DATA_DIR: dataDir }, 'report', ...range);
    expect(reply.code).toBe(0);
    expect((JSON.parse(reply.stdout) as { rows: Array<{ tenant: string }> }).rows.map((r) => r.tenant)).toEqual([
      'on-sqlite',
    ]);
  });

  it('report honours PERTOKEN_DATABASE_URL (and its schema) over the data dir', async (ctx) => {
    const skip = await postgresSkipReason();
    if (skip !== null) {
      if (process.env.CI === 'true') throw new Error(`PostgreSQL is required under CI: ${skip}`);
      ctx.skip();
    }
    const { schema, drop } = await createTestSchema();
    try {
      const store = createPostgresStore({ url: TEST_DATABASE_URL, schema });
      await store.migrate();
      await store.insertEvents([event('on-postgres', 1_234_567_890n)]);
      await store.close();
      const reply = await pertoken(
        { PERTOKEN_DATABASE_URL: TEST_DATABASE_URL, PERTOKEN_DATABASE_SCHEMA: schema, PERTOKEN_DATA_DIR: dataDir },
        'report',
        ...range,
      );
      expect(reply.stderr).toBe('');
      const body = JSON.parse(reply.stdout) as { rows: Array<{ tenant: string; cost_usd: string }> };
      expect(body.rows).toEqual([expect.objectContaining({ tenant: 'on-postgres', cost_usd: '1.234567890' })]);
    } finally {
      await drop();
    }
  });
});

describe('a reader that closes the pipe early', () => {
  it('`pertoken prices | head -1` exits 0 without an EPIPE trace', async () => {
    const child = spawn(process.execPath, [CLI, 'prices'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Like `head`: read the first chunk, then close our end while the CLI still has ~500 KB to write.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe('the admin commands find the server', () => {
  it.each([
    [{ PERTOKEN_PORT: '9' }, 'http://127.0.0.1:9'],
    [{ PERTOKEN_URL: 'http://127.0.0.1:7', PERTOKEN_PORT: '9' }, 'http://127.0.0.1:7'],
  ])('with %o they call %s', async (env, origin) => {
    const reply = await pertoken(env, 'tenants', 'list');
    expect(reply.code).toBe(1);
    expect(reply.stderr).toContain(`error: --url: cannot reach ${origin}`);
  });
});

describe('reprice names what the range holds', () => {
  it('a model that matches nothing is an error listing the stored models, and writes nothing', async () => {
    const args = ['reprice', '--provider', 'openai', '--from', '2026-11-20', '--to', '2026-11-21'];
    const miss = await pertoken({ PERTOKEN_DATA_DIR: dataDir }, ...args, '--model', 'gpt-5');
    expect(miss.code).toBe(1);
    expect(miss.stderr).toMatch(
      /^error: --model: no openai events of "gpt-5" in the range; its openai models: gpt-4o$/m,
    );
  });
});
