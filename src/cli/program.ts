import { Command } from 'commander';
import { adjustCommand } from './adjust.js';
import { benchCommand } from './bench.js';
import { budgetsCommand } from './budgets.js';
import { estimateCommand } from './estimate.js';
import { exportCommand } from './export.js';
import { keysCommand } from './keys.js';
import { pricesCommand } from './prices.js';
import { pruneCommand } from './prune.js';
import { reportCommand } from './report.js';
import { repriceCommand } from './reprice.js';
import { seedCommand } from './seed.js';
import { serveCommand } from './serve.js';
import { tenantsCommand } from './tenants.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';

/** Every command, each writing to `io` and reading `env`: in-process tests pass their own. */
export function buildProgram(version: string, io: CliIo = processIo(), env: Env = process.env): Command {
  const program = new Command('pertoken')
    .description('what every LLM token costs, who spent it and why')
    .version(version)
    .addCommand(serveCommand(io, env))
    .addCommand(reportCommand(io, env))
    .addCommand(pricesCommand(io, env))
    .addCommand(estimateCommand(io, env))
    .addCommand(benchCommand(io, env))
    .addCommand(tenantsCommand(io, env))
    .addCommand(keysCommand(io, env))
    .addCommand(budgetsCommand(io, env))
    .addCommand(repriceCommand(io, env))
    .addCommand(adjustCommand(io, env))
    .addCommand(exportCommand(io, env))
    .addCommand(pruneCommand(io, env))
    .addCommand(seedCommand(io, env));
  routeOutput(program, io);
  return program;
}

/** Commander's own output (help, --version, usage errors) goes to `io` too; addCommand does not inherit it. */
function routeOutput(command: Command, io: CliIo): void {
  command.configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
  for (const sub of command.commands) routeOutput(sub, io);
}
