/**
 * `pertoken prometheus-rules`: the Prometheus rule file (recording rules for spend per tenant and
 * budget, burn-rate alerts equal to the built-in detector's), for Prometheus 2.42 or later.
 */
import { Command } from 'commander';
import { prometheusRules } from '../metrics/rules.js';
import { resolveConfig } from './context.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';
import { writeOutput } from './output-file.js';

interface RulesFlags {
  out?: string;
  config?: string;
  runbookBase?: string;
}

export function prometheusRulesCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  return new Command('prometheus-rules')
    .description('Prometheus recording and alerting rules (budget burn rate) for pertoken /metrics')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--config <file>', 'pertoken.yaml (the burn-rate floor is alerts.anomaly.min_impact_usd)')
    .option('--runbook-base <url>', 'where docs/runbooks is published, for runbook_url', 'docs/runbooks')
    .action(async (flags: RulesFlags) => {
      const config = resolveConfig(flags.config, env);
      const text = prometheusRules({
        floorUsd: Number(config.alerts.anomaly.min_impact_usd),
        ...(flags.runbookBase ? { runbookBase: flags.runbookBase } : {}),
      });
      await writeOutput(io, flags.out, '--out', async (sink) => {
        sink.write(text);
      });
      if (flags.out !== undefined)
        io.stderr.write(`wrote ${flags.out}; check it with: promtool check rules ${flags.out}\n`);
    });
}
