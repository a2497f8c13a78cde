import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { PertokenError } from '../errors.js';
import { startPertoken, type RunningServer } from '../server.js';
import { rejectionOf } from '../testing/errors.js';
import { memoryIo } from '../testing/io.js';
import { budgetsCommand } from './budgets.js';
import { keysCommand } from './keys.js';
import type { CliIo, Env } from './ledger-store.js';
import { tenantsCommand } from './tenants.js';

/** `pertoken tenants|keys|budgets` against a real `pertoken serve` (in process, demo upstream). */
const TOKEN = 'cli-admin-token';
let server: RunningServer;
let dir: string;
const ENV: Env = { PERTOKEN_ADMIN_TOKEN: TOKEN };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-cli-gov-'));
  server = await startPertoken({
    config: parseConfig({ demo: { ttft_ms: 1, itl_ms: 0 } }),
    env: { PERTOKEN_ADMIN_TOKEN: TOKEN },
    port: 0,
    dataDir: dir,
    log: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await server.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

type Factory = (
  io: CliIo,
  env: Env,
) => {
  parseAsync(argv: string[], options: { from: 'user' }): Promise<unknown>;
};

/** Runs a command with its output captured in memory and `env` as its environment. */
async function runIn(env: Env, factory: Factory, ...args: string[]): Promise<string> {
  const io = memoryIo();
  await factory(io, env).parseAsync(args.includes('--url') ? args : [...args, '--url', server.url], { from: 'user' });
  return io.out();
}

const run = (factory: Factory, ...args: string[]): Promise<string> => runIn(ENV, factory, ...args);

function failure(factory: Factory, ...args: string[]): Promise<PertokenError> {
  return rejectionOf(run(factory, ...args));
}

describe('governance CLI', () => {
  let keyId = '';
  let key = '';

  it('creates tenants, projects and a key shown once, which then works at the gateway', async () => {
    expect(await run(tenantsCommand, 'create', 'acme', '--name', 'Acme', '--rpm', '100')).toMatch(
      /^id\s+name\s+rpm\s+tpm\s+updated_at\n.*\nacme\s+Acme\s+100\s+-/,
    );
    await run(tenantsCommand, 'project', 'search', '--tenant', 'acme', '--tpm', '100000');
    expect(await run(tenantsCommand, 'projects', '--tenant', 'acme')).toContain('search');
    const created = JSON.parse(
      await run(
        keysCommand,
        'create',
        '--tenant',
        'acme',
        '--project',
        'search',
        '--scopes',
        'chat,read',
        '--models',
        'gpt-4o*',
        '--format',
        'json',
      ),
    ) as { id: string; key: string; scopes: string[]; models: string[] };
    expect(created.scopes).toEqual(['chat', 'read']);
    expect(created.models).toEqual(['gpt-4o*']);
    keyId = created.id;
    key = created.key;
    const res = await request(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const listed = await run(keysCommand, 'list', '--tenant', 'acme');
    expect(listed).toContain(keyId);
    expect(listed).not.toContain(key.slice(-20));
  });

  it('sets budgets and shows their status', async () => {
    await run(
      budgetsCommand,
      'set',
      'acme-month',
      '--tenant',
      'acme',
      '--period',
      'month',
      '--tz',
      'Europe/Berlin',
      '--limit',
      '5',
      '--thresholds',
      '0.5,0.8',
    );
    const json = JSON.parse(await run(budgetsCommand, 'list', '--tenant', 'acme', '--format', 'json')) as {
      budgets: Array<Record<string, unknown>>;
    };
    expect(json.budgets).toEqual([
      expect.objectContaining({
        id: 'acme-month',
        tenant: 'acme',
        tz: 'Europe/Berlin',
        limit_usd: '5.000000000',
        thresholds: [0.5, 0.8],
      }),
    ]);
    expect(await run(budgetsCommand, 'list')).toMatch(/acme-month\s+acme\s+month/);
  });

  it('rotates and revokes, and the audit shows who did what', async () => {
    const rotated = await run(keysCommand, 'rotate', keyId, '--grace', '60');
    expect(rotated).toMatch(/new key \(shown once, store it now\):\npt-/);
    const revoked = JSON.parse(await run(keysCommand, 'revoke', keyId, '--format', 'json')) as { status: string };
    expect(revoked.status).toBe('revoked');
    const audit = JSON.parse(await run(tenantsCommand, 'audit', '--format', 'json')) as {
      entries: Array<{ action: string; actor: string }>;
    };
    expect(audit.entries.map((e) => e.action)).toEqual([
      'tenant.create',
      'project.create',
      'key.create',
      'budget.create',
      'key.rotate',
      'key.revoke',
    ]);
    expect(audit.entries[0]?.actor).toMatch(/^admin(:.+)?$/);
  });

  it('names the flag to fix when the server or the CLI refuses', async () => {
    expect((await failure(keysCommand, 'create', '--tenant', 'nobody')).toLine()).toBe(
      'error: --tenant: no tenant "nobody"; create it first',
    );
    expect((await failure(keysCommand, 'create', '--tenant', 'acme', '--project', 'elsewhere')).param).toBe(
      '--project',
    );
    expect((await failure(keysCommand, 'create', '--tenant', 'acme', '--rpm', 'lots')).param).toBe('--rpm');
    expect((await failure(keysCommand, 'create', '--tenant', 'acme', '--scopes', 'chat,fly')).param).toBe('--scopes');
    expect((await failure(keysCommand, 'create', '--tenant', 'acme', '--expires', 'soon')).param).toBe('--expires');
    expect(
      (await failure(budgetsCommand, 'set', 'b', '--tenant', 'acme', '--period', 'day', '--limit', '1.0000000001'))
        .param,
    ).toBe('--limit');
    expect(
      (
        await failure(
          budgetsCommand,
          'set',
          'b',
          '--tenant',
          'acme',
          '--period',
          'day',
          '--limit',
          '1',
          '--tz',
          'Nowhere/Town',
        )
      ).param,
    ).toBe('--tz');
    expect((await failure(budgetsCommand, 'set', 'b', '--period', 'day', '--limit', '1')).param).toBe('--tenant');
    expect(
      (
        await failure(
          budgetsCommand,
          'set',
          'b',
          '--tenant',
          'acme',
          '--period',
          'day',
          '--limit',
          '1',
          '--action',
          'downgrade',
        )
      ).param,
    ).toBe('--downgrade-to');
    expect(
      (
        await failure(
          budgetsCommand,
          'set',
          'b',
          '--tenant',
          'acme',
          '--period',
          'day',
          '--limit',
          '1',
          '--thresholds',
          '0.5,x',
        )
      ).param,
    ).toBe('--thresholds');
    expect((await failure(keysCommand, 'rotate', 'knobody')).param).toBe('<id>');
    const unreachable = await failure((io, env) => keysCommand(io, env), 'list', '--url', 'http://127.0.0.1:1');
    expect(unreachable.param).toBe('--url');
    const wrongToken = await rejectionOf(runIn({ PERTOKEN_ADMIN_TOKEN: 'wrong' }, keysCommand, 'list'));
    expect(wrongToken.param).toBe('PERTOKEN_ADMIN_TOKEN');
    // The format is refused as the flags are parsed, before a key (shown once) is created.
    expect((await failure(keysCommand, 'create', '--tenant', 'acme', '--format', 'xml')).toLine()).toBe(
      'error: --format: must be table or json, got "xml"',
    );
  });

  it('sets a token allowance scoped to a model family, and asks for a limit when none is given', async () => {
    const saved = JSON.parse(
      await run(
        budgetsCommand,
        'set',
        'acme-gpt4o-tokens',
        '--tenant',
        'acme',
        '--model',
        'gpt-4o',
        '--period',
        'day',
        '--limit-tokens',
        '200000',
        '--format',
        'json',
      ),
    ) as Record<string, unknown>;
    expect(saved).toMatchObject({ scope: { tenant: 'acme', model: 'gpt-4o' }, limit_tokens: 200000, limit_usd: null });
    expect((await failure(budgetsCommand, 'set', 'b', '--tenant', 'acme', '--period', 'day')).param).toBe('--limit');
    expect(
      (await failure(budgetsCommand, 'set', 'b', '--tenant', 'acme', '--period', 'day', '--limit-tokens', '1.5')).param,
    ).toBe('--limit-tokens');
  });
});
