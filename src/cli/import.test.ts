import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, fixtureText } from '../attribution/billing/testing/fixtures.js';
import { PertokenError } from '../errors.js';
import { createSqliteStore } from '../ledger/index.js';
import { memoryIo, type MemoryIo } from '../testing/io.js';
import { importCommand } from './import.js';

let dir: string;
let dataDir: string;
let configFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-import-'));
  dataDir = join(dir, 'data');
  const store = createSqliteStore({ path: join(dataDir, 'ledger.sqlite') });
  await store.migrate();
  await store.close();
  configFile = join(dir, 'pertoken.yaml');
  writeFileSync(
    configFile,
    'billing_accounts:\n  - { provider: openai, project_id: proj_FixtureChat0000000000, tenant: acme, project: chat }\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<MemoryIo & { code: number }> {
  const io = memoryIo();
  const command = importCommand(io, {}).exitOverride();
  command.configureOutput({ writeErr: (t) => io.stderr.write(t), writeOut: (t) => io.stdout.write(t) });
  try {
    await command.parseAsync([...args, '--data-dir', dataDir, '--config', configFile], { from: 'user' });
    return { ...io, code: 0 };
  } catch (err) {
    if (err instanceof CommanderError) return { ...io, code: err.exitCode };
    throw err;
  }
}

describe('pertoken import', () => {
  it('imports a file and prints the summary; importing it again reports duplicates', async () => {
    const first = await run('openai-costs', fixturePath('openai-costs.json'), '--format', 'json');
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.out()) as Record<string, unknown>;
    expect(summary).toMatchObject({
      format: 'openai-costs',
      rows: 14,
      imported: 14,
      replaced: 0,
      duplicates: 0,
      rejected: [],
    });
    expect(summary.unmapped).toBe(8);
    const again = await run('openai-costs', fixturePath('openai-costs.json'));
    expect(again.code).toBe(0);
    expect(again.out()).toMatch(/^format\s+rows\s+imported\s+replaced\s+duplicates\s+unmapped\s+rejected\n/);
    expect(again.out()).toMatch(/openai-costs\s+14\s+0\s+0\s+14\s+8\s+0/);
  });

  it('lists rejected rows with their file and position and exits 1', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, fixtureText('focus-sample.csv').replace(',3.0,org-Fixture', ',three,org-Fixture'));
    const result = await run('focus', bad, '--format', 'json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out())).toMatchObject({
      rows: 0,
      rejected: [{ file: bad, at: 'line 2', reason: 'BilledCost: not a decimal: "three"' }],
    });
    expect(result.err()).toMatch(/1 rows rejected/);
  });

  it('a bad format name is an error naming the param', async () => {
    const err = await run('openai', fixturePath('openai-costs.json')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PertokenError);
    expect((err as PertokenError).toLine()).toMatch(/format.*must be one of openai-costs, openai-usage/);
  });
});
