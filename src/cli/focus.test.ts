import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../attribution/testing/focus.js';
import { PertokenError } from '../errors.js';
import { createSqliteStore } from '../ledger/index.js';
import { makeEvent } from '../ledger/testing/fixtures.js';
import { parseDecimalScaled } from '../money.js';
import { memoryIo } from '../testing/io.js';
import { focusCommand } from './focus.js';

const CONFIG = `
gpu_pools:
  - { name: h100-east, gpus: 8, rates: [{ from: 2026-10-01, usd_per_gpu_hour: 2.99 }], serves: [acme-vllm],
      capacity: { output_tokens_per_s: 12000 }, idle: weighted }
shared_costs:
  - { name: observability, usd: 1200, from: 2026-10-01, allocate: even }
`;

let dir: string;
let dataDir: string;
let configFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-focus-'));
  dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  configFile = join(dir, 'pertoken.yaml');
  writeFileSync(configFile, CONFIG);
  const store = createSqliteStore({ path: join(dataDir, 'ledger.sqlite') });
  await store.migrate();
  await store.insertEvents([
    makeEvent({ id: 'a1', tenant: 'acme', time: new Date('2026-10-03T10:00:00Z'), cost_nano: 3_500_000_000n }),
    makeEvent({
      id: 'a2',
      tenant: 'beta',
      provider: 'acme-vllm',
      model: 'llama-3.1-8b',
      time: new Date('2026-10-04T10:00:00Z'),
      buckets: { input: 40_000_000, output: 8_000_000 },
      cost_nano: 5_000_000_000n,
    }),
  ]);
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function focus(...args: string[]) {
  const io = memoryIo();
  await focusCommand(io, {})
    .exitOverride()
    .parseAsync(['--data-dir', dataDir, '--config', configFile, ...args], { from: 'user' });
  return io;
}

const billed = (csv: string): bigint => {
  const rows = parseCsv(csv);
  const at = rows[0]!.indexOf('BilledCost');
  return rows.slice(1).reduce((sum, r) => sum + parseDecimalScaled(r[at] ?? '0', 9, 'BilledCost'), 0n);
};

describe('pertoken focus', () => {
  it('writes October as FOCUS CSV whose BilledCost is vendor + pool + shared, exactly', async () => {
    const io = await focus('--from', '2026-10-01', '--to', '2026-11-01');
    // $3.50 of vendor spend + 8 GPUs × 744 h × $2.99 + $1,200 shared.
    expect(billed(io.out())).toBe(
      parseDecimalScaled('3.5', 9, 'x') + parseDecimalScaled('17796.48', 9, 'x') + 1_200_000_000_000n,
    );
    expect(io.err()).toMatch(/^exported \d+ FOCUS rows\n$/);
  });

  it('writes a file only when complete, and narrows to one tenant', async () => {
    const out = join(dir, 'acme.csv');
    await focus('--from', '2026-10-01', '--to', '2026-11-01', '--tenant', 'acme', '--out', out);
    expect(existsSync(`${out}.partial`)).toBe(false);
    const rows = parseCsv(readFileSync(out, 'utf8'));
    const sub = rows[0]!.indexOf('SubAccountId');
    expect(new Set(rows.slice(1).map((r) => r[sub]))).toEqual(new Set(['acme']));
  });

  it('refuses a window that ends before it starts, naming the flag', async () => {
    const err = await focus('--from', '2026-11-01', '--to', '2026-10-01').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PertokenError);
    expect((err as PertokenError).param).toBe('--from');
  });
});
