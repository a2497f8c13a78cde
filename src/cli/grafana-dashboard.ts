/**
 * `pertoken grafana-dashboard`: the Grafana dashboard (Classic JSON; import it and pick the
 * Prometheus data source that scrapes pertoken) with executive, on-call and debug rows.
 */
import { Command } from 'commander';
import { grafanaDashboardJson } from '../metrics/dashboard.js';
import { processIo, type CliIo } from './ledger-store.js';
import { writeOutput } from './output-file.js';

export function grafanaDashboardCommand(io: CliIo = processIo()): Command {
  return new Command('grafana-dashboard')
    .description('Grafana dashboard JSON over pertoken /metrics (executive, on-call and debug rows)')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (flags: { out?: string }) => {
      const text = grafanaDashboardJson();
      await writeOutput(io, flags.out, '--out', async (sink) => {
        sink.write(text);
      });
      if (flags.out !== undefined) io.stderr.write(`wrote ${flags.out}\n`);
    });
}
