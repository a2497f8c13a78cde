/**
 * `pertoken focus`: the FOCUS 1.2 export (DESIGN §3) of a window, streamed from the ledger one day
 * at a time, so a month of millions of rows runs in constant memory.
 */
import { Command } from 'commander';
import { openAttribution } from '../attribution/index.js';
import { invalidInput } from '../errors.js';
import { parseInstant } from '../ledger/index.js';
import { resolveConfig } from './context.js';
import {
  addLedgerOptions,
  dataDirOf,
  processIo,
  requireInstant,
  withLedger,
  type CliIo,
  type Env,
  type LedgerFlags,
} from './ledger-store.js';
import { writeOutput, writeWithBackpressure } from './output-file.js';

interface FocusFlags extends LedgerFlags {
  from?: string;
  to?: string;
  out?: string;
  tenant?: string;
  config?: string;
}

export function focusCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('focus')
    .description('FOCUS 1.2 CSV of a window: usage, adjustments, GPU pool true-ups, idle and shared costs')
    .requiredOption('--from <iso>', 'start, inclusive (UTC date or ISO instant)')
    .requiredOption('--to <iso>', 'end, exclusive')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--tenant <id>', "only this tenant's rows")
    .option('--config <file>', 'pertoken.yaml with gpu_pools, shared_costs and prices');
  return addLedgerOptions(command).action(async (flags: FocusFlags) => {
    const from = requireInstant(parseInstant, flags.from, '--from');
    const to = requireInstant(parseInstant, flags.to, '--to');
    if (from >= to) throw invalidInput('--from', 'must be earlier than --to');
    const config = resolveConfig(flags.config, env);
    const rows = await writeOutput(io, flags.out, '--out', (sink) =>
      withLedger(flags, env, async (store) => {
        const { attribution } = await openAttribution(config, dataDirOf(flags, env), store);
        let lines = -1;
        for await (const chunk of await attribution.focus({ from, to }, flags.tenant ?? null)) {
          lines += countLines(chunk);
          await writeWithBackpressure(sink, chunk);
        }
        return lines;
      }),
    );
    io.stderr.write(`exported ${rows} FOCUS rows${flags.out === undefined ? '' : ` to ${flags.out}`}\n`);
  });
}

function countLines(chunk: string): number {
  let n = 0;
  for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) n++;
  return n;
}
