import { Command } from 'commander';
import { benchCommand } from './bench.js';
import { budgetsCommand } from './budgets.js';
import { estimateCommand } from './estimate.js';
import { keysCommand } from './keys.js';
import { pricesCommand } from './prices.js';
import { reportCommand } from './report.js';
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
    .addCommand(budgetsCommand());
}
