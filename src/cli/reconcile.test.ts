import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bill, metered } from '../attribution/reconcile/testing/fixtures.js';
import { createSqliteStore } from '../ledger/index.js';
import { memoryIo, type MemoryIo } from '../testing/io.js';
import { reconcileCommand } from './reconcile.js';

const dir = mkdtempSync(join(tmpdir(), 'pertoken-reconcile-'));

beforeAll(async () => {
  const store = createSqliteStore({ path: join(dir, 'ledger.sqlite') });
  await store.migrate();
  await store.insertEvents([
    metered('acme'),
    metered('beta'),
    metered('gamma', { time: new Date('2026-11-12T10:00:00Z') }),
  ]);
  await store.importBillingRows({
    importId: 'i1',
    rows: [
      bill({ tenant: 'acme' }),
      // beta: half price on batch lines (explained); gamma: fewer tokens and more money (unexplained)
      bill({ tenant: 'beta', usd: '1.25', batch: true }),
      bill({ tenant: 'gamma', start_ms: Date.parse('2026-11-12T00:00:00Z'), quantity: 10n, usd: '7' }),
    ],
  });
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ io: MemoryIo; code: number; message: string }> {
  const io = memoryIo();
  try {
    await reconcileCommand(io, {})
      .exitOverride()
      .parseAsync(['--data-dir', dir, ...args], { from: 'user' });
    return { io, code: 0, message: '' };
  } catch (e: unknown) {
    if (e instanceof CommanderError) return { io, code: e.exitCode, message: e.message };
    throw e;
  }
}

describe('pertoken reconcile', () => {
  it('exits 0 when every gap is explained, and prints the evidence under the row', async () => {
    const { io, code } = await run('--from', '2026-11-10', '--to', '2026-11-11');
    expect(code).toBe(0);
    expect(io.out()).toContain('batch_discount');
    expect(io.out()).toMatch(/- billed at the batch rate/);
    expect(io.out()).toContain(
      'reconciliation 2026-11-10T00:00:00.000Z .. 2026-11-11T00:00:00.000Z (threshold 0.5 %): gaps',
    );
  });

  it('exits 1 on an unexplained gap past the threshold; json and csv carry the same rows', async () => {
    const { io, code, message } = await run('--from', '2026-11-12', '--to', '2026-11-13', '--format', 'json');
    expect(code).toBe(1);
    const json = JSON.parse(io.out()) as { rows: Array<{ tenant: string; explanation: { code: string } }> };
    expect(json.rows.map((r) => [r.tenant, r.explanation.code])).toEqual([['gamma', 'unexplained']]);
    expect(message).toContain('1 unexplained gap(s) past 0.5 %');
    const csv = await run('--from', '2026-11-12', '--to', '2026-11-13', '--format', 'csv');
    expect(csv.code).toBe(1);
    expect(csv.io.out().split('\n')[0]).toBe(
      'day,provider,tenant,project,model,bucket,metered_tokens,billed_tokens,metered_usd,billed_usd,delta_usd,delta_pct,code,detail',
    );
  });

  it('a bad --threshold names the flag', async () => {
    await expect(run('--from', '2026-11-10', '--to', '2026-11-11', '--threshold', 'x')).rejects.toMatchObject({
      param: '--threshold',
    });
  });
});

describe('pertoken reconcile --apply', () => {
  const applyDir = mkdtempSync(join(tmpdir(), 'pertoken-reconcile-apply-'));
  beforeAll(async () => {
    const store = createSqliteStore({ path: join(applyDir, 'ledger.sqlite') });
    await store.migrate();
    await store.insertEvents([metered('beta'), metered('gamma')]);
    await store.importBillingRows({
      importId: 'i1',
      rows: [bill({ tenant: 'beta', usd: '1.25', batch: true }), bill({ tenant: 'gamma', quantity: 10n, usd: '7' })],
    });
    await store.close();
  });
  afterAll(() => rmSync(applyDir, { recursive: true, force: true }));

  const runApply = async (...args: string[]): Promise<{ io: MemoryIo; code: number }> => {
    const io = memoryIo();
    try {
      await reconcileCommand(io, {})
        .exitOverride()
        .parseAsync(['--data-dir', applyDir, '--from', '2026-11-10', '--to', '2026-11-11', ...args], { from: 'user' });
      return { io, code: 0 };
    } catch (e: unknown) {
      if (e instanceof CommanderError) return { io, code: e.exitCode };
      throw e;
    }
  };

  it('closes the batch row once, leaves the unexplained one and still exits 1', async () => {
    const first = await runApply('--apply', '--format', 'json');
    expect(first.code).toBe(1);
    expect(JSON.parse(first.io.out())).toMatchObject({
      applied: [{ tenant: 'beta', code: 'batch_discount', amount_usd: '-1.250000000' }],
      skipped: 1,
    });
    const second = await runApply('--apply');
    expect(second.code).toBe(1);
    expect(second.io.out()).toContain('applied 0 adjustment(s), total $0.000000000; 1 row(s) left as they are');
    const rerun = await runApply('--format', 'json');
    const rows = (JSON.parse(rerun.io.out()) as { rows: Array<{ tenant: string; explanation: { code: string } }> })
      .rows;
    expect(rows.map((r) => [r.tenant, r.explanation.code])).toEqual([
      ['beta', 'match'],
      ['gamma', 'unexplained'],
    ]);
    await expect(runApply('--apply', '--format', 'csv')).rejects.toThrow(/--apply prints table or json/);
  });
});
