import { Command } from 'commander';
import { parseInstant } from '../ledger/index.js';
import { PertokenError } from '../errors.js';
import { newEventId } from '../ledger/index.js';
import { formatUsd, parseUsd } from '../pricing/index.js';
import { addLedgerOptions, processIo, withLedger, type CliIo, type Env, type LedgerFlags } from './ledger-store.js';

interface AdjustFlags extends LedgerFlags {
  tenant: string;
  amount: string;
  reason: string;
  time?: string;
  project?: string;
  feature?: string;
  provider: string;
  model: string;
  id?: string;
}

const DIM = /^[A-Za-z0-9._:@/+-]{1,128}$/;

function dimension(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!DIM.test(value))
    throw new PertokenError('invalid_request', 'must be 1-128 characters of A-Z a-z 0-9 . _ : @ / + -', {
      param: flag,
    });
  return value;
}

/**
 * A manual credit or charge (a vendor credit, a negotiated refund, a correction found in a
 * reconciliation) recorded as an adjustment dated at --time: reports show it under the tenant
 * (and project/provider/model given) in the adjustments column. Re-running with the same --id
 * adds nothing; without --id every run records a new adjustment.
 */
export function adjustCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('adjust')
    .description('record a manual credit (negative) or charge (positive) as an adjustment')
    .requiredOption('--tenant <id>', 'tenant the amount belongs to')
    .requiredOption('--amount <usd>', 'signed USD amount, at most 9 decimals (e.g. -12.50 for a credit)')
    .requiredOption('--reason <text>', 'why (stored with the adjustment)')
    .option('--time <iso>', 'when it counts (reports date it here); default now')
    .option('--project <id>', 'project it belongs to')
    .option('--feature <id>', 'feature it belongs to')
    .option('--provider <id>', 'provider it belongs to', 'manual')
    .option('--model <name>', 'model it belongs to', 'manual')
    .option('--id <id>', 'idempotency key (default: a new id)');
  return addLedgerOptions(command).action(async (flags: AdjustFlags) => {
    let amount: bigint;
    try {
      amount = parseUsd(flags.amount);
    } catch (err: unknown) {
      throw new PertokenError('invalid_request', err instanceof Error ? err.message : String(err), {
        param: '--amount',
        cause: err,
      });
    }
    if (amount === 0n) throw new PertokenError('invalid_request', 'must not be zero', { param: '--amount' });
    if (flags.reason.trim() === '')
      throw new PertokenError('invalid_request', 'must not be empty', { param: '--reason' });
    const time = parseInstant(flags.time ?? null, '--time') ?? new Date();
    const id = flags.id ?? `manual-${newEventId()}`;
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(id))
      throw new PertokenError('invalid_request', 'must be 1-128 characters of A-Z a-z 0-9 . _ : -', { param: '--id' });
    const tenant = dimension(flags.tenant, '--tenant')!;
    const project = dimension(flags.project, '--project');
    const feature = dimension(flags.feature, '--feature');
    const provider = dimension(flags.provider, '--provider')!;
    const added = await withLedger(flags, env, (store) =>
      store.addAdjustment({
        id,
        time,
        tenant,
        project,
        feature,
        provider,
        model: flags.model,
        amount_nano: amount,
        reason: flags.reason,
      }),
    );
    io.stdout.write(
      added
        ? `recorded adjustment ${id}: ${formatUsd(amount)} USD for tenant ${tenant} at ${time.toISOString()}\n`
        : `adjustment ${id} was already recorded; nothing added\n`,
    );
  });
}
