import { Command } from 'commander';
import { adjustCommand } from './adjust.js';
import { benchCommand } from './bench.js';
import { budgetsCommand } from './budgets.js';
import { chargebackCommand } from './chargeback.js';
import { estimateCommand } from './estimate.js';
import { exportCommand } from './export.js';
import { focusCommand } from './focus.js';
import { grafanaDashboardCommand } from './grafana-dashboard.js';
import { importCommand } from './import.js';
import { keysCommand } from './keys.js';
import { pricesCommand } from './prices.js';
import { prometheusRulesCommand } from './prometheus-rules.js';
import { pullCommand } from './pull.js';
import { pruneCommand } from './prune.js';
import { reconcileCommand } from './reconcile.js';
import { reportCommand } from './report.js';
import { repriceCommand } from './reprice.js';
import { seedCommand } from './seed.js';
import { serveCommand } from './serve.js';
import { tenantsCommand } from './tenants.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';

/** A command factory: every command writes to `io` and reads `env` (tests pass their own). */
export type CommandFactory = (io: CliIo, env: Env) => Command;

/** Every command, in `pertoken --help` order; adding a command is one entry here. */
export const COMMANDS: readonly CommandFactory[] = [
  serveCommand,
  reportCommand,
  chargebackCommand,
  pricesCommand,
  estimateCommand,
  benchCommand,
  tenantsCommand,
  keysCommand,
  budgetsCommand,
  repriceCommand,
  adjustCommand,
  exportCommand,
  focusCommand,
  importCommand,
  pullCommand,
  reconcileCommand,
  pruneCommand,
  seedCommand,
  prometheusRulesCommand,
  grafanaDashboardCommand,
];

export function buildProgram(version: string, io: CliIo = processIo(), env: Env = process.env): Command {
  const program = new Command('pertoken')
    .description('what every LLM token costs, who spent it and why')
    .version(version);
  for (const make of COMMANDS) program.addCommand(make(io, env));
  routeOutput(program, io);
  return program;
}

/** Commander's own output (help, --version, usage errors) goes to `io` too; addCommand does not inherit it. */
function routeOutput(command: Command, io: CliIo): void {
  command.configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
  for (const sub of command.commands) routeOutput(sub, io);
}
