/**
 * `pertoken chargeback`: a month's statement (DESIGN §3) — per tenant its full cost (vendor,
 * self-hosted GPU time with idle, shared costs, adjustments), what its plan charges, and the
 * margin — from the local ledger as `pertoken serve` attributes it, or from a running server.
 */
import { Command } from 'commander';
import {
  monthWindow,
  openAttribution,
  statementCsv,
  statementHtml,
  statementTable,
  type ChargebackJson,
} from '../attribution/index.js';
import { parseFormat, renderJson } from '../output.js';
import { callApi } from './api-client.js';
import { resolveConfig } from './context.js';
import {
  addLedgerOptions,
  dataDirOf,
  processIo,
  withLedger,
  type CliIo,
  type Env,
  type LedgerFlags,
} from './ledger-store.js';
import { writeOutput } from './output-file.js';

const FORMATS = ['table', 'json', 'csv', 'html'] as const;
type StatementFormat = (typeof FORMATS)[number];

interface ChargebackFlags extends LedgerFlags {
  period: string;
  tenant?: string;
  format: string;
  lines?: boolean;
  out?: string;
  config?: string;
  url?: string;
}

export function chargebackCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('chargeback')
    .description("a month's statement per tenant: full cost (vendor, GPU pools with idle, shared), charge and margin")
    .requiredOption('--period <YYYY-MM>', 'the month (UTC); the current month is month to date')
    .option('--tenant <id>', "only this tenant's statement (no unallocated cost, no identity)")
    .option('--format <format>', 'table | json | csv | html (a printable statement, one page per tenant)', 'table')
    .option('--lines', "table: each tenant's lines under the summary")
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--config <file>', 'pertoken.yaml with gpu_pools, shared_costs, plans and prices')
    .option('--url <url>', 'ask a running pertoken server instead of the local ledger (uses PERTOKEN_ADMIN_TOKEN)');
  return addLedgerOptions(command).action(async (flags: ChargebackFlags) => {
    const format = parseFormat<StatementFormat>(flags.format, '--format', FORMATS);
    // Checked before a ledger is opened or a server called.
    monthWindow(flags.period, '--period');
    const statement = flags.url === undefined ? await localStatement(flags, env) : await fetchStatement(flags, env);
    const text = renderStatement(statement, format, flags.lines === true);
    await writeOutput(io, flags.out, '--out', async (sink) => {
      sink.write(text);
    });
    if (flags.tenant !== undefined && statement.tenants.length === 0) {
      io.stderr.write(`note: tenant "${flags.tenant}" has no usage or cost in ${flags.period}\n`);
    }
    if (flags.out !== undefined) {
      io.stderr.write(`wrote ${flags.out}: ${flags.period}, ${statement.tenants.length} tenant(s)\n`);
    }
  });
}

/** The statement as `pertoken serve` would answer it: same config, same data dir, same ledger. */
async function localStatement(flags: ChargebackFlags, env: Env): Promise<ChargebackJson> {
  const config = resolveConfig(flags.config, env);
  return withLedger(flags, env, async (store) => {
    const { attribution } = await openAttribution(config, dataDirOf(flags, env), store);
    return attribution.chargeback(flags.period, flags.tenant ?? null);
  });
}

function fetchStatement(flags: ChargebackFlags, env: Env): Promise<ChargebackJson> {
  const params = new URLSearchParams({ period: flags.period });
  if (flags.tenant !== undefined) params.set('tenant', flags.tenant);
  return callApi<ChargebackJson>(env, { url: flags.url ?? '', path: `/api/v1/chargeback?${params.toString()}` });
}

export function renderStatement(statement: ChargebackJson, format: StatementFormat, lines = false): string {
  switch (format) {
    case 'json':
      return renderJson(statement);
    case 'csv':
      return statementCsv(statement);
    case 'html':
      return statementHtml(statement);
    case 'table':
      return statementTable(statement, { lines });
  }
}
