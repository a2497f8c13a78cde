import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prometheusRules } from '../metrics/rules.js';
import { memoryIo } from '../testing/io.js';
import { prometheusRulesCommand } from './prometheus-rules.js';

const dir = mkdtempSync(join(tmpdir(), 'pertoken-rules-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]) {
  const io = memoryIo();
  await prometheusRulesCommand(io, {}).exitOverride().parseAsync(args, { from: 'user' });
  return io;
}

describe('pertoken prometheus-rules', () => {
  it('prints the rule file with the default $1 floor', async () => {
    const io = await run();
    expect(io.out()).toBe(prometheusRules({ floorUsd: 1 }));
    expect(io.err()).toBe('');
  });

  it('takes the floor from alerts.anomaly.min_impact_usd and writes --out', async () => {
    const config = join(dir, 'pertoken.yaml');
    writeFileSync(config, 'alerts:\n  anomaly: { min_impact_usd: "2.5" }\n');
    const out = join(dir, 'rules.yml');
    const io = await run('--config', config, '--out', out, '--runbook-base', 'https://wiki.example/rb');
    expect(io.out()).toBe('');
    expect(io.err()).toBe(`wrote ${out}; check it with: promtool check rules ${out}\n`);
    const text = readFileSync(out, 'utf8');
    expect(text).toBe(prometheusRules({ floorUsd: 2.5, runbookBase: 'https://wiki.example/rb' }));
    const alerts = (parse(text) as { groups: Array<{ rules: Array<{ alert?: string; expr: string }> }> }).groups
      .flatMap((g) => g.rules)
      .filter((r) => r.alert === 'PertokenBudgetBurnRate');
    expect(alerts).toHaveLength(4);
    for (const a of alerts) expect(a.expr).toMatch(/budget:pertoken_cost_usd:increase\w+ >= 2.5\n/);
  });
});
