import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { createSqliteStore, newEventId, type UsageEvent } from '../ledger/index.js';
import type { Env } from './ledger-store.js';
import { SEED_DATA_DIR, seedCommand, seedTarget } from './seed.js';

/** `pertoken seed` in-process, with captured output; failures as main.ts prints them. */

let work: string;
let live: string;

async function run(args: string[], env: Env = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (c: Buffer) => (stdout += c.toString()));
  const err = new PassThrough().on('data', (c: Buffer) => (stderr += c.toString()));
  const command = seedCommand({ stdout: out, stderr: err }, env)
    .exitOverride()
    .configureOutput({ writeErr: (s) => (stderr += s), writeOut: (s) => (stdout += s) });
  try {
    await command.parseAsync(args, { from: 'user' });
    return { code: 0, stdout, stderr };
  } catch (e: unknown) {
    if (e instanceof CommanderError) return { code: e.exitCode, stdout, stderr };
    const line = e instanceof PertokenError ? e.toLine() : `error: ${e instanceof Error ? e.message : String(e)}`;
    return { code: 1, stdout, stderr: `${line}\n` };
  }
}

const SMALL = ['--events', '500', '--tenants', '10', '--models', '5', '--days', '2', '--end', '2026-11-01'];

function realEvent(): UsageEvent {
  return {
    id: newEventId(),
    time: new Date('2026-10-31T10:00:00Z'),
    origin: 'gateway',
    source: 'openai',
    tenant: 'acme',
    project: 'search',
    user: null,
    feature: null,
    key_id: null,
    trace_id: null,
    tags: {},
    provider: 'openai',
    requested_model: 'gpt-4o',
    model: 'gpt-4o',
    route: '/v1/chat/completions',
    status: 'ok',
    http_status: 200,
    streamed: false,
    latency_ms: 100,
    ttft_ms: null,
    buckets: { input: 1000, output: 100 },
    usage_source: 'provider',
    cost_nano: 3_500_000n,
    price_ref: null,
    raw_usage: null,
    usage_issues: [],
  };
}

function tenants(dir: string): string[] {
  const db = new Database(join(dir, 'ledger.sqlite'), { readonly: true });
  try {
    return (db.prepare('select distinct tenant from events order by tenant').all() as Array<{ tenant: string }>).map(
      (r) => r.tenant,
    );
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pertoken-seed-cli-'));
  // The ledger `pertoken serve` uses, with one real event of the README's tenant `acme`.
  live = join(work, 'live');
  const store = createSqliteStore({ path: join(live, 'ledger.sqlite') });
  await store.migrate();
  await store.insertEvents([realEvent()]);
  await store.close();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('pertoken seed: where it writes', () => {
  it('defaults to ./.pertoken-seed, not PERTOKEN_DATA_DIR; flags and PERTOKEN_DATABASE_URL name another ledger', () => {
    const cwd = join(work, 'project');
    expect(seedTarget({}, { PERTOKEN_DATA_DIR: live }, cwd)).toEqual({
      kind: 'sqlite',
      path: join(cwd, SEED_DATA_DIR, 'ledger.sqlite'),
    });
    expect(seedTarget({ dataDir: 'elsewhere' }, {}, cwd)).toEqual({
      kind: 'sqlite',
      path: join(cwd, 'elsewhere', 'ledger.sqlite'),
    });
    expect(seedTarget({ dataDir: live }, {}, cwd)).toEqual({ kind: 'sqlite', path: join(live, 'ledger.sqlite') });
    const url = 'postgres://seed@db:5432/ledger';
    expect(seedTarget({}, { PERTOKEN_DATABASE_URL: url }, cwd)).toEqual({ kind: 'postgres', url });
    expect(seedTarget({ databaseUrl: url }, { PERTOKEN_DATA_DIR: live }, cwd)).toEqual({ kind: 'postgres', url });
  });

  it('seeds into ./.pertoken-seed of the working directory, leaving the live ledger alone; reloading adds nothing', async () => {
    const cwd = join(work, 'project');
    mkdirSync(cwd, { recursive: true });
    const before = process.cwd();
    process.chdir(cwd);
    try {
      const first = await run(SMALL, { PERTOKEN_DATA_DIR: live });
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`into ${join(cwd, SEED_DATA_DIR, 'ledger.sqlite')}`);
      const again = await run(SMALL, { PERTOKEN_DATA_DIR: live });
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^seeded 0 new events \(500 already present\)/);
    } finally {
      process.chdir(before);
    }
    expect(tenants(live)).toEqual(['acme']);
    const seeded = tenants(join(cwd, SEED_DATA_DIR));
    expect(seeded.length).toBeGreaterThan(1);
    expect(seeded.every((t) => t.startsWith('seed-'))).toBe(true);
  });

  it('refuses a ledger holding real events with one line naming --force, writing nothing; --force loads', async () => {
    const refused = await run([...SMALL, '--data-dir', live]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^error: --force: .*ledger\.sqlite already holds real events .*\n$/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(tenants(live)).toEqual(['acme']);

    const forced = await run([...SMALL, '--data-dir', live, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^seeded 500 new events/);
    const mixed = tenants(live);
    expect(mixed).toContain('acme');
    expect(mixed.filter((t) => t !== 'acme').every((t) => t.startsWith('seed-'))).toBe(true);
  });

  it('--help names the default directory, the seed- names and --force', async () => {
    const help = await run(['--help']);
    expect(help.stdout).toContain(`./${SEED_DATA_DIR}`);
    expect(help.stdout).toContain('--force');
    expect(help.stdout).toContain('seed-');
  });
});
