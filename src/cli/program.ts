import { Command } from 'commander';
import { benchCommand } from './bench.js';
import { estimateCommand } from './estimate.js';
import { pricesCommand } from './prices.js';
import { reportCommand } from './report.js';
import { serveCommand } from './serve.js';

export function buildProgram(version: string): Command {
  return new Command('pertoken')
    .description('what every LLM token costs, who spent it and why')
    .version(version)
    .addCommand(serveCommand())
    .addCommand(reportCommand())
    .addCommand(pricesCommand())
    .addCommand(estimateCommand())
    .addCommand(benchCommand());
}
