import type { Writable } from 'node:stream';
import { Command } from 'commander';
import { parseInstant, presentEvent } from '../ledger/index.js';
import { PertokenError } from '../errors.js';
import { csvField, parseFormat, type Cell } from '../output.js';
import { GROUP_KEYS, type GroupKey, type UsageEvent } from '../ledger/index.js';
import { formatUsd } from '../pricing/index.js';
import { BUCKETS } from '../usage/index.js';
import {
  addLedgerOptions,
  parsePositiveInt,
  processIo,
  requireInstant,
  withLedger,
  type CliIo,
  type Env,
  type LedgerFlags,
} from './ledger-store.js';
import { writeOutput, writeWithBackpressure } from './output-file.js';

interface ExportFlags extends LedgerFlags {
  from?: string;
  to?: string;
  format: string;
  output?: string;
  filter: string[];
  pageSize?: string;
}

export type ExportFormat = 'csv' | 'jsonl';

/** CSV columns: the event's fields, one column per usage bucket, money as a 9-decimal string. */
export const CSV_COLUMNS = [
  'id',
  'time',
  'origin',
  'source',
  'tenant',
  'project',
  'user',
  'feature',
  'key_id',
  'trace_id',
  'provider',
  'requested_model',
  'model',
  'route',
  'status',
  'http_status',
  'streamed',
  'latency_ms',
  'ttft_ms',
  ...BUCKETS.map((b) => `tok_${b}`),
  'usage_source',
  'cost_usd',
  'price_ref',
  'tags',
  'usage_issues',
  'raw_usage',
] as const;

export function csvLine(e: UsageEvent): string {
  const cells: Cell[] = [
    e.id,
    e.time.toISOString(),
    e.origin,
    e.source,
    e.tenant,
    e.project,
    e.user,
    e.feature,
    e.key_id,
    e.trace_id,
    e.provider,
    e.requested_model,
    e.model,
    e.route,
    e.status,
    e.http_status,
    e.streamed,
    e.latency_ms,
    e.ttft_ms,
    ...BUCKETS.map((b) => e.buckets[b] ?? 0),
    e.usage_source,
    e.cost_nano === null ? '' : formatUsd(e.cost_nano),
    e.price_ref,
    JSON.stringify(e.tags),
    JSON.stringify(e.usage_issues),
    e.raw_usage === null || e.raw_usage === undefined ? '' : JSON.stringify(e.raw_usage),
  ];
  return cells.map(csvField).join(',') + '\n';
}

/** One JSON object per line, in the shape of GET /api/v1/events/:id. */
export function jsonLine(e: UsageEvent): string {
  return JSON.stringify(presentEvent(e)) + '\n';
}

/** The reader went away (`pertoken export … | head`): stop writing, not an error. */
function isClosedPipe(err: unknown): boolean {
  return (
    (err as { code?: unknown } | null)?.code === 'EPIPE' ||
    (err as { code?: unknown } | null)?.code === 'ERR_STREAM_DESTROYED'
  );
}

export interface ExportSource {
  scanEvents(query: {
    from: Date;
    to: Date;
    filter?: Partial<Record<GroupKey, string>>;
    pageSize?: number;
  }): AsyncIterable<UsageEvent[]>;
}

/** Streams the events of [from, to) to `out`; returns how many were written. */
export async function exportEvents(
  source: ExportSource,
  out: Writable,
  options: {
    from: Date;
    to: Date;
    format: ExportFormat;
    filter?: Partial<Record<GroupKey, string>>;
    pageSize?: number;
  },
): Promise<number> {
  const line = options.format === 'csv' ? csvLine : jsonLine;
  // A write error is also emitted as 'error'; without a listener it would crash the process.
  let failed: unknown = null;
  const onError = (err: unknown): void => {
    failed ??= err;
  };
  out.on('error', onError);
  let count = 0;
  try {
    if (options.format === 'csv') await writeWithBackpressure(out, CSV_COLUMNS.join(',') + '\n');
    for await (const page of source.scanEvents(options)) {
      if (failed !== null) break;
      await writeWithBackpressure(out, page.map(line).join(''));
      count += page.length;
    }
  } catch (err: unknown) {
    failed ??= err;
  } finally {
    out.off('error', onError);
  }
  if (failed !== null && !isClosedPipe(failed)) throw failed;
  return count;
}

function parseFilters(pairs: readonly string[]): Partial<Record<GroupKey, string>> {
  const filter: Partial<Record<GroupKey, string>> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq);
    if (eq <= 0) throw new PertokenError('invalid_request', `expected key=value, got "${pair}"`, { param: '--filter' });
    if (!(GROUP_KEYS as readonly string[]).includes(key)) {
      throw new PertokenError('invalid_request', `unknown key "${key}"; use ${GROUP_KEYS.join(', ')}`, {
        param: '--filter',
      });
    }
    filter[key as GroupKey] = pair.slice(eq + 1);
  }
  return filter;
}

/**
 * `pertoken export`: events of any size range, oldest first, with constant memory — keyset pages
 * from the ledger, each written with back-pressure. A file is written as FILE.partial and renamed
 * when complete, so a failed export never leaves a truncated FILE behind.
 */
export function exportCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('export')
    .description('stream raw events to CSV or JSON Lines (constant memory, any range)')
    .requiredOption('--from <iso>', 'start, inclusive (UTC date or ISO instant)')
    .requiredOption('--to <iso>', 'end, exclusive')
    .option('--format <format>', 'csv | jsonl', 'csv')
    .option('--output <file>', 'write to a file instead of stdout')
    .option('--filter <key=value>', 'filter on a group key (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--page-size <n>', 'rows per ledger read (default 1000)');
  return addLedgerOptions(command).action(async (flags: ExportFlags) => {
    const format = parseFormat<ExportFormat>(flags.format, '--format', ['csv', 'jsonl']);
    const from = requireInstant(parseInstant, flags.from, '--from');
    const to = requireInstant(parseInstant, flags.to, '--to');
    if (from >= to) throw new PertokenError('invalid_request', 'must be earlier than --to', { param: '--from' });
    const filter = parseFilters(flags.filter);
    const pageSize =
      flags.pageSize === undefined ? undefined : parsePositiveInt(flags.pageSize, '--page-size', 100_000);
    const options = {
      from,
      to,
      format,
      filter,
      ...(pageSize !== undefined ? { pageSize } : {}),
    };

    const count = await writeOutput(io, flags.output, '--output', (sink) =>
      withLedger(flags, env, (store) => exportEvents(store, sink, options)),
    );
    io.stderr.write(`exported ${count} events${flags.output === undefined ? '' : ` to ${flags.output}`}\n`);
  });
}
