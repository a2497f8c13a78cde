import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presentCosts } from '../ledger/index.js';
import { PertokenError } from '../errors.js';
import { csvField } from '../output.js';
import { createSqliteStore, type LedgerStore, type UsageEvent } from '../ledger/index.js';
import { adjustCommand } from './adjust.js';
import { CSV_COLUMNS, exportCommand, exportEvents } from './export.js';
import type { CliIo, Env } from './ledger-store.js';
import { pruneCommand } from './prune.js';
import { renderCosts } from './report.js';
import { repriceCommand } from './reprice.js';
import { progressBar, progressReporter, seedCommand } from './seed.js';

/** The maintenance commands run in-process with captured output; failures as main.ts prints them. */

type Make = (io: CliIo, env: Env) => Command;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dataDir: string;
let env: Env;

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function run(make: Make, args: string[], extraEnv: Env = {}): Promise<Run> {
  const out = sink();
  const err = sink();
  let commanderErr = '';
  const command = make({ stdout: out.stream, stderr: err.stream }, { ...env, ...extraEnv })
    .exitOverride()
    .configureOutput({ writeErr: (s) => (commanderErr += s), writeOut: (s) => out.stream.write(s) });
  try {
    await command.parseAsync(args, { from: 'user' });
    return { code: 0, stdout: out.text(), stderr: err.text() };
  } catch (e: unknown) {
    if (e instanceof CommanderError) return { code: e.exitCode, stdout: out.text(), stderr: commanderErr };
    const line = e instanceof PertokenError ? e.toLine() : `error: ${e instanceof Error ? e.message : String(e)}`;
    return { code: 1, stdout: out.text(), stderr: `${line}\n` };
  }
}

const ledgerPath = (): string => join(dataDir, 'ledger.sqlite');

async function withStore<T>(work: (store: LedgerStore) => Promise<T>): Promise<T> {
  const store = createSqliteStore({ path: ledgerPath() });
  await store.migrate();
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function event(id: string, overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    id,
    time: new Date('2026-11-20T10:30:00Z'),
    origin: 'gateway',
    source: 'openai',
    tenant: 'acme',
    project: 'search',
    user: null,
    feature: 'chat',
    key_id: 'vk_1',
    trace_id: null,
    tags: {},
    provider: 'openai',
    requested_model: 'gpt-4o',
    model: 'gpt-4o',
    route: '/v1/chat/completions',
    status: 'ok',
    http_status: 200,
    streamed: false,
    latency_ms: 120,
    ttft_ms: null,
    buckets: { input: 1000, output: 100 },
    usage_source: 'provider',
    cost_nano: 3_500_000n,
    price_ref: 'genai-prices@0.1.8:openai/gpt-4o',
    raw_usage: null,
    usage_issues: [],
    ...overrides,
  };
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'pertoken-maint-'));
  env = { PERTOKEN_DATA_DIR: dataDir };
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('pertoken reprice and adjust', () => {
  beforeAll(async () => {
    await withStore((store) =>
      store.insertEvents([
        event('r1'),
        event('r2', { tenant: 'globex', time: new Date('2026-11-20T11:10:00Z') }),
        // unpriced at the time (price book had no entry): priced by the reprice
        event('r3', { cost_nano: null, price_ref: null }),
        event('other', { model: 'gpt-4o-mini', requested_model: 'gpt-4o-mini', cost_nano: 1n }),
      ]),
    );
    writeFileSync(
      join(dataDir, 'half.yaml'),
      'prices:\n  - { provider: openai, model: gpt-4o, from: 2026-01-01, discount_pct: 50 }\n',
    );
  });

  const args = ['--provider', 'openai', '--model', 'gpt-4o', '--from', '2026-11-20', '--to', '2026-11-21'];

  it('a dry run prints the summary and writes nothing', async () => {
    const res = await run(repriceCommand, [...args, '--config', join(dataDir, 'half.yaml'), '--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('(dry run: nothing written)');
    expect(res.stdout).toMatch(/events scanned\s+3\n/);
    expect(res.stdout).toMatch(/adjusted\s+3 \(1 previously unpriced\)\n/);
    // 2 × (1.75 − 3.5) + 1.75 (gpt-4o: $2.5/M in, $10/M out; 1000 in + 100 out, 50% off)
    expect(res.stdout).toMatch(/total delta USD\s+-0\.001750000\n/);
    const [row] = await withStore((s) =>
      s.queryCosts({ from: new Date('2026-11-20'), to: new Date('2026-11-21'), groupBy: [], filter: {} }),
    );
    expect(row?.adjustments_nano).toBe(0n);
  });

  it('appends adjustments; reports show list, adjustments and net; a second run changes nothing', async () => {
    const first = await run(repriceCommand, [...args, '--config', join(dataDir, 'half.yaml'), '--format', 'json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      scanned: 3,
      adjusted: 3,
      newly_priced: 1,
      delta_usd: '-0.001750000',
      dry_run: false,
    });
    const second = await run(repriceCommand, [...args, '--config', join(dataDir, 'half.yaml')]);
    expect(second.stdout).toMatch(/adjusted\s+0 \(0 previously unpriced\)\n/);
    expect(second.stdout).toMatch(/already at price\s+3\n/);

    const query = {
      from: new Date('2026-11-20'),
      to: new Date('2026-11-21'),
      groupBy: ['tenant' as const],
      filter: {},
    };
    const costs = presentCosts(query, await withStore((s) => s.queryCosts(query)));
    expect(costs.rows).toEqual([
      {
        tenant: 'acme',
        requests: 3,
        tokens: { input: 3000, output: 300 },
        cost_usd: '0.003500001',
        list_cost_usd: '0.003500001',
        adjustments_usd: '0.000000000',
        net_cost_usd: '0.003500001',
        unpriced_requests: 1,
        estimated_requests: 0,
        refused_requests: 0,
        cost_per_1m_tokens_usd: '1.060606364',
        cost_per_request_usd: '0.001166667',
        cost_per_output_token_usd: '0.000011667',
      },
      {
        tenant: 'globex',
        requests: 1,
        tokens: { input: 1000, output: 100 },
        cost_usd: '0.001750000',
        list_cost_usd: '0.003500000',
        adjustments_usd: '-0.001750000',
        net_cost_usd: '0.001750000',
        unpriced_requests: 0,
        estimated_requests: 0,
        refused_requests: 0,
        cost_per_1m_tokens_usd: '1.590909091',
        cost_per_request_usd: '0.001750000',
        cost_per_output_token_usd: '0.000017500',
      },
    ]);
    expect(costs.totals).toMatchObject({
      list_cost_usd: '0.007000001',
      adjustments_usd: '-0.001750000',
      net_cost_usd: '0.005250001',
      cost_usd: '0.005250001',
    });
    const csv = renderCosts(costs, 'csv').trim().split('\n');
    expect(csv[0]).toBe(
      'tenant,requests,refused,tok_input,tok_output,list_usd,adjustments_usd,cost_usd,unpriced,estimated',
    );
    expect(csv[2]).toBe('globex,1,0,1000,100,0.003500000,-0.001750000,0.001750000,0,0');
  });

  it('adjust records a manual credit once per --id, shown as an adjustment of its tenant', async () => {
    const credit = [
      '--tenant',
      'acme',
      '--amount',
      '-0.0035',
      '--reason',
      'goodwill credit',
      '--time',
      '2026-11-20T12:00:00Z',
      '--id',
      'credit-1',
    ];
    const first = await run(adjustCommand, credit);
    expect(first).toMatchObject({
      code: 0,
      stdout: 'recorded adjustment credit-1: -0.003500000 USD for tenant acme at 2026-11-20T12:00:00.000Z\n',
    });
    expect((await run(adjustCommand, credit)).stdout).toBe('adjustment credit-1 was already recorded; nothing added\n');
    const rows = await withStore((s) =>
      s.queryCosts({
        from: new Date('2026-11-20'),
        to: new Date('2026-11-21'),
        groupBy: ['tenant', 'model'],
        filter: { tenant: 'acme' },
      }),
    );
    expect(rows.find((r) => r.keys.model === 'manual')).toMatchObject({
      requests: 0,
      adjustments_nano: -3_500_000n,
      net_nano: -3_500_000n,
    });
  });

  it.each([
    [
      'reprice',
      repriceCommand,
      ['--model', 'gpt-4o', '--from', '2026-11-20', '--to', '2026-11-21'],
      /^error: required option '--provider <id>' not specified/,
    ],
    [
      'reprice',
      repriceCommand,
      ['--provider', 'openai', '--model', 'gpt-4o', '--from', 'yesterday', '--to', '2026-11-21'],
      /^error: --from: /,
    ],
    [
      'reprice',
      repriceCommand,
      ['--provider', 'openai', '--model', 'gpt-4o', '--from', '2026-11-22', '--to', '2026-11-21'],
      /^error: --from: must be earlier than --to/,
    ],
    [
      'reprice',
      repriceCommand,
      [...['--provider', 'openai', '--model', 'x', '--from', '2026-11-20', '--to', '2026-11-21'], '--format', 'xml'],
      /^error: --format: must be table or json/,
    ],
    [
      'reprice',
      repriceCommand,
      [
        ...['--provider', 'openai', '--model', 'x', '--from', '2026-11-20', '--to', '2026-11-21'],
        '--database-url',
        'mysql://x',
      ],
      /^error: --database-url: must be a postgres:\/\/ URL/,
    ],
    [
      'adjust',
      adjustCommand,
      ['--tenant', 'acme', '--amount', '12.5.0', '--reason', 'x'],
      /^error: --amount: invalid USD amount/,
    ],
    [
      'adjust',
      adjustCommand,
      ['--tenant', 'acme', '--amount', '0', '--reason', 'x'],
      /^error: --amount: must not be zero/,
    ],
    ['adjust', adjustCommand, ['--tenant', 'a b', '--amount', '1', '--reason', 'x'], /^error: --tenant: /],
    [
      'adjust',
      adjustCommand,
      ['--tenant', 'acme', '--amount', '1', '--reason', 'x', '--time', 'noon'],
      /^error: --time: /,
    ],
    ['prune', pruneCommand, ['--older-than', 'ninety'], /^error: --older-than: must be a number of days/],
    ['prune', pruneCommand, ['--older-than', '0d'], /^error: --older-than: /],
    ['prune', pruneCommand, ['--older-than', '90d', '--batch-size', '-1'], /^error: --batch-size: /],
    [
      'export',
      exportCommand,
      ['--from', '2026-11-20', '--to', '2026-11-21', '--format', 'xml'],
      /^error: --format: must be csv or jsonl/,
    ],
    ['export', exportCommand, ['--from', '2026-11-20'], /^error: required option '--to <iso>' not specified/],
    [
      'export',
      exportCommand,
      ['--from', '2026-11-20', '--to', '2026-11-21', '--filter', 'colour=red'],
      /^error: --filter: unknown key "colour"/,
    ],
    [
      'export',
      exportCommand,
      ['--from', '2026-11-20', '--to', '2026-11-21', '--output', '/nonexistent-dir/x.csv'],
      /^error: --output: cannot write \/nonexistent-dir\/x.csv: ENOENT/,
    ],
    ['seed', seedCommand, ['--events', '10k'], /^error: --events: must be a whole number/],
    ['seed', seedCommand, ['--models', '999'], /^error: --models: must be a whole number from 1 to \d+/],
    ['seed', seedCommand, ['--seed', 'abc'], /^error: --seed: /],
    ['seed', seedCommand, ['--end', 'soon'], /^error: --end: /],
  ] as Array<[string, Make, string[], RegExp]>)(
    '%s %j fails with one line naming the flag',
    async (_name, make, argv, message) => {
      const res = await run(make, argv);
      expect(res.code).toBe(1);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(message);
    },
  );
});

/** RFC 4180 reader for the round trip (quoted fields, doubled quotes, embedded newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  return rows;
}

describe('pertoken export and prune', () => {
  const exportDir = (): string => join(dataDir, 'export');
  const exportEnv = (): Env => ({ PERTOKEN_DATA_DIR: exportDir() });
  let stored: UsageEvent[];

  beforeAll(async () => {
    const events = Array.from({ length: 2500 }, (_, i) =>
      event(`ex-${String(i).padStart(4, '0')}`, {
        time: new Date(Date.UTC(2026, 10, 1) + i * 60_000),
        tenant: i % 3 === 0 ? 'globex' : 'acme',
        user: i % 7 === 0 ? 'alice@example.com' : null,
        cost_nano: i % 11 === 0 ? null : BigInt(i) * 1_000_000_001n,
        tags: i % 5 === 0 ? { note: 'has, comma "and quotes"\nand a newline' } : {},
        raw_usage: i % 2 === 0 ? { prompt_tokens: 1000 } : null,
        usage_issues: i % 13 === 0 ? ['estimated: stream cut'] : [],
      }),
    );
    const store = createSqliteStore({ path: join(exportDir(), 'ledger.sqlite') });
    await store.migrate();
    await store.insertEvents(events);
    stored = [];
    for await (const page of store.scanEvents({ from: new Date(0), to: new Date(2 ** 42) })) stored.push(...page);
    await store.close();
  });

  const range = ['--from', '2026-11-01', '--to', '2026-11-03'];

  it('CSV has one column per bucket and money as 9-decimal strings, and parses back to the events (more rows than one page)', async () => {
    const file = join(dataDir, 'events.csv');
    const res = await run(exportCommand, [...range, '--output', file, '--page-size', '300'], exportEnv());
    expect(res).toMatchObject({ code: 0, stderr: `exported 2500 events to ${file}\n` });
    expect(existsSync(`${file}.partial`)).toBe(false);
    const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(header).toContain('tok_cache_write_1h');
    expect(rows).toHaveLength(2500);
    const col = (name: string): number => header!.indexOf(name);
    rows.forEach((cells, i) => {
      const e = stored[i]!;
      expect(cells[col('id')]).toBe(e.id);
      expect(cells[col('time')]).toBe(e.time.toISOString());
      expect(cells[col('tenant')]).toBe(e.tenant);
      expect(cells[col('user')]).toBe(e.user ?? '');
      expect(cells[col('tok_input')]).toBe('1000');
      expect(cells[col('tok_reasoning')]).toBe('0');
      expect(cells[col('cost_usd')]).toBe(
        e.cost_nano === null
          ? ''
          : Number(e.cost_nano / 1_000_000_000n) + '.' + String(e.cost_nano % 1_000_000_000n).padStart(9, '0'),
      );
      expect(JSON.parse(cells[col('tags')]!)).toEqual(e.tags);
      expect(JSON.parse(cells[col('usage_issues')]!)).toEqual(e.usage_issues);
      expect(cells[col('raw_usage')] === '' ? null : JSON.parse(cells[col('raw_usage')]!)).toEqual(e.raw_usage);
    });
  });

  it('JSONL to stdout: one event per line in the API shape, filtered', async () => {
    const res = await run(exportCommand, [...range, '--format', 'jsonl', '--filter', 'tenant=globex'], exportEnv());
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('exported 834 events\n');
    const lines = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const globex = stored.filter((e) => e.tenant === 'globex');
    expect(lines).toHaveLength(globex.length);
    expect(lines[0]).toEqual({
      ...globex[0],
      time: globex[0]!.time.toISOString(),
      cost_usd: null,
      cost_nano: undefined,
      request_hash: null, // the API shape names both, null when unknown
      client_address: null,
    });
    expect(lines.map((l) => l.id)).toEqual(globex.map((e) => e.id));
    expect(lines[1]?.cost_usd).toBe('3.000000003');
  });

  it('waits for drain on a slow reader and stops quietly when the reader goes away', async () => {
    const source = {
      scanEvents: async function* () {
        for (let i = 0; i < 10; i++) yield stored.slice(i * 100, i * 100 + 100);
      },
    };
    let writes = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, done) {
        writes++;
        setTimeout(done, 1);
      },
    });
    expect(await exportEvents(source, slow, { from: new Date(0), to: new Date(1), format: 'jsonl' })).toBe(1000);
    expect(writes).toBe(10);
    const closed = new Writable({
      write(_chunk, _enc, done) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    expect(await exportEvents(source, closed, { from: new Date(0), to: new Date(1), format: 'csv' })).toBeLessThan(
      1000,
    );
  });

  it('csvField quotes only what needs quoting', () => {
    expect([csvField('plain'), csvField('a,b'), csvField('say "hi"'), csvField('two\nlines')]).toEqual([
      'plain',
      '"a,b"',
      '"say ""hi"""',
      '"two\nlines"',
    ]);
  });

  it('prune deletes old events only and keeps the report totals', async () => {
    const pruneEnv = { PERTOKEN_DATA_DIR: join(dataDir, 'prune') };
    const now = Date.now();
    const hour = (ms: number): number => Math.floor(ms / 3_600_000) * 3_600_000;
    const oldTime = hour(now - 100 * 86_400_000) + 60_000;
    const store = createSqliteStore({ path: join(dataDir, 'prune', 'ledger.sqlite') });
    await store.migrate();
    await store.insertEvents([
      ...Array.from({ length: 7 }, (_, i) => event(`old-${i}`, { time: new Date(oldTime + i * 1000) })),
      event('recent', { time: new Date(now - 86_400_000) }),
    ]);
    // Whole hours only, so that the report is answered from rollups before and after.
    const query = {
      from: new Date(hour(now - 200 * 86_400_000)),
      to: new Date(hour(now)),
      groupBy: ['day' as const],
      filter: {},
    };
    const before = await store.queryCosts(query);
    await store.close();

    const res = await run(pruneCommand, ['--older-than', '30d', '--batch-size', '3'], pruneEnv);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /^deleted 7 events and 0 reservations older than \S+ in 3 batches; rollups and adjustments kept\n$/,
    );
    const after = createSqliteStore({ path: join(dataDir, 'prune', 'ledger.sqlite') });
    try {
      expect(await after.queryCosts(query)).toEqual(before);
      expect(await after.getEvent('old-0')).toBeNull();
      expect(await after.getEvent('recent')).not.toBeNull();
    } finally {
      await after.close();
    }
  });
});

describe('pertoken seed', () => {
  it('seeds a small ledger, deterministic per --seed, with periodic progress lines when stderr is not a terminal', async () => {
    const args = [
      '--events',
      '3000',
      '--tenants',
      '20',
      '--models',
      '10',
      '--days',
      '3',
      '--seed',
      '9',
      '--end',
      '2026-11-01',
      '--batch-size',
      '1000',
    ];
    const first = await run(seedCommand, [...args, '--data-dir', join(dataDir, 's1')]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^seeded 3000 new events \(0 already present\) into .*s1\/ledger\.sqlite in [\d.]+ s: \d+ events\/s\n$/,
    );
    expect(first.stderr).toMatch(
      /^seed: \d+\/3000 events \(\d+\/s\)\n(seed: .*\n)*seed: 3000\/3000 events \(\d+\/s\)\n$/,
    );
    await run(seedCommand, [...args, '--data-dir', join(dataDir, 's2')]);
    const totals = async (dir: string): Promise<unknown> => {
      const store = createSqliteStore({ path: join(dataDir, dir, 'ledger.sqlite') });
      try {
        return await store.queryCosts({
          from: new Date('2026-10-01'),
          to: new Date('2026-11-01'),
          groupBy: ['tenant', 'model'],
          filter: {},
        });
      } finally {
        await store.close();
      }
    };
    expect(await totals('s1')).toEqual(await totals('s2'));
    const again = await run(seedCommand, [...args, '--data-dir', join(dataDir, 's1')]);
    expect(again.stdout).toMatch(/^seeded 0 new events \(3000 already present\)/);
  });

  it('draws a bar in place on a terminal and rate-limits plain lines', () => {
    expect(progressBar({ written: 4_500_000, inserted: 4_500_000, total: 10_000_000, elapsedMs: 20_000 }, 10)).toBe(
      '[####......]  45%  4.5M/10M  225k ev/s  ETA 25s',
    );
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const out: string[] = [];
    tty.on('data', (c: Buffer) => out.push(c.toString()));
    const onTty = progressReporter(tty);
    onTty({ written: 5, inserted: 5, total: 10, elapsedMs: 1000 });
    onTty({ written: 10, inserted: 10, total: 10, elapsedMs: 2000 });
    expect(out.join('')).toMatch(/^\r\[.*\] {2}50%.*\r\[#+\] 100%.*\n$/);
    let clock = 0;
    const plain = new PassThrough();
    const lines: string[] = [];
    plain.on('data', (c: Buffer) => lines.push(c.toString()));
    const onPlain = progressReporter(plain, () => clock);
    for (let i = 1; i <= 10; i++) {
      clock = i * 1000;
      onPlain({ written: i, inserted: i, total: 10, elapsedMs: clock });
    }
    expect(lines).toEqual(['seed: 1/10 events (1/s)\n', 'seed: 6/10 events (1/s)\n', 'seed: 10/10 events (1/s)\n']);
  });
});
