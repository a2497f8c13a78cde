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

export function buildProgram(version: string): Command {
  return new Command('pertoken')
    .description('what every LLM token costs, who spent it and why')
    .version(version)
    .addCommand(serveCommand())
    .addCommand(reportCommand())
    .addCommand(pricesCommand())
    .addCommand(estimateCommand())
    .addCommand(benchCommand())
    .addCommand(tenantsCommand())
    .addCommand(keysCommand())
    .addCommand(budgetsCommand())
    .addCommand(repriceCommand())
    .addCommand(adjustCommand())
    .addCommand(exportCommand())
    .addCommand(pruneCommand())
    .addCommand(seedCommand());
}
