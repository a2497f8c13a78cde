import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { grafanaDashboard } from '../metrics/dashboard.js';
import { memoryIo } from '../testing/io.js';
import { grafanaDashboardCommand } from './grafana-dashboard.js';

const dir = mkdtempSync(join(tmpdir(), 'pertoken-dashboard-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]) {
  const io = memoryIo();
  await grafanaDashboardCommand(io).exitOverride().parseAsync(args, { from: 'user' });
  return io;
}

describe('pertoken grafana-dashboard', () => {
  it('prints the dashboard JSON', async () => {
    const io = await run();
    expect(JSON.parse(io.out())).toEqual(grafanaDashboard());
  });

  it('writes --out, and names the flag when the file cannot be written', async () => {
    const out = join(dir, 'dashboard.json');
    const io = await run('--out', out);
    expect(io.err()).toBe(`wrote ${out}\n`);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ uid: 'pertoken-llm-cost', schemaVersion: 39 });
    const error = await run('--out', join(dir, 'missing', 'dashboard.json')).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PertokenError);
    expect((error as PertokenError).param).toBe('--out');
  });
});
