import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PULL_STATE_FILE } from '../attribution/billing/index.js';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { postJson } from '../demo/testing/client.js';
import { PertokenError } from '../errors.js';
import { createSqliteStore } from '../ledger/index.js';
import { memoryIo } from '../testing/io.js';
import { pullCommand } from './pull.js';

let dir: string;
let up: DemoUpstream;
const config = (key: string): string => {
  const file = join(dir, `${key}.yaml`);
  writeFileSync(
    file,
    `billing_accounts:\n  - { provider: anthropic, workspace_id: null, tenant: acme, admin_key: ${key}, base_url: "${up.url}" }\n`,
  );
  return file;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-pull-cli-'));
  const store = createSqliteStore({ path: join(dir, 'ledger.sqlite') });
  await store.migrate();
  await store.close();
  up = await startDemoUpstream({ ttftMs: 0, itlMs: 0, adminKey: 'sk-admin' });
  await postJson(
    `${up.url}/v1/messages`,
    { model: 'claude-sonnet-4-0', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] },
    { 'anthropic-version': '2023-06-01', 'x-api-key': 'k' },
  );
});
afterAll(async () => {
  await up.close();
  rmSync(dir, { recursive: true, force: true });
});

const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('pertoken pull', () => {
  it('pulls the window and prints one line per report', async () => {
    const io = memoryIo();
    await pullCommand(io, {}).parseAsync(
      ['--from', day(-1), '--to', day(1), '--data-dir', dir, '--config', config('sk-admin'), '--format', 'json'],
      { from: 'user' },
    );
    const out = JSON.parse(io.out()) as { reports: { format: string; import: { imported: number } | null }[] };
    expect(out.reports.map((r) => r.format)).toEqual(['anthropic-usage', 'anthropic-cost']);
    expect(out.reports.every((r) => (r.import?.imported ?? 0) > 0)).toBe(true);
    // Yesterday is over and marked done; today is not (the next pull fetches it again).
    expect(existsSync(join(dir, PULL_STATE_FILE))).toBe(true);
  });

  it('fails with the admin_key field named when the key is refused', async () => {
    const err = await pullCommand(memoryIo(), {})
      .parseAsync(['--to', day(1), '--data-dir', dir, '--config', config('sk-wrong')], { from: 'user' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PertokenError);
    expect((err as PertokenError).param).toBe('billing_accounts[0].admin_key');
  });
});
