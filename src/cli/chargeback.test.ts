import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAttribution, type ChargebackJson } from '../attribution/index.js';
import { loadConfigFile } from '../config/index.js';
import { PertokenError } from '../errors.js';
import { createSqliteStore } from '../ledger/index.js';
import { makeEvent } from '../ledger/testing/fixtures.js';
import { memoryIo, type MemoryIo } from '../testing/io.js';
import { chargebackCommand } from './chargeback.js';
import type { Env } from './ledger-store.js';

/** pertoken.yaml with every attribution section (DESIGN §3): a GPU pool, a shared cost, two plans. */
const CONFIG = `
gpu_pools:
  - name: h100-east
    gpu: h100-sxm
    gpus: 8
    rates:
      - { from: 2026-10-01, usd_per_gpu_hour: 2.99, pricing: on_demand }
    serves: [acme-vllm]
    capacity: { output_tokens_per_s: 12000, input_tokens_per_s: 90000 }
    output_weight: 4
    idle: line
shared_costs:
  - { name: observability, usd: 1200, per: month, from: 2026-10-01, allocate: by_cost, tenants: [acme, beta] }
plans:
  - { tenant: acme, markup_pct: 20 }
  - { tenant: beta, rates: [{ model: "gpt-4o*", input: 3.00, output: 12.00 }] }
`;

const at = (day: number): Date => new Date(Date.UTC(2026, 9, day, 12));

let dir: string;
let dataDir: string;
let configFile: string;
let expected: ChargebackJson;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-chargeback-'));
  dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  configFile = join(dir, 'pertoken.yaml');
  writeFileSync(configFile, CONFIG);
  const store = createSqliteStore({ path: join(dataDir, 'ledger.sqlite') });
  await store.migrate();
  await store.insertEvents([
    makeEvent({
      id: 'a1',
      tenant: 'acme',
      project: 'search',
      time: at(3),
      buckets: { input: 1_000_000, output: 100_000 },
      cost_nano: 3_500_000_000n,
    }),
    makeEvent({
      id: 'a2',
      tenant: 'acme',
      project: 'search',
      time: at(4),
      provider: 'acme-vllm',
      requested_model: 'llama-3.1-8b',
      model: 'llama-3.1-8b',
      buckets: { input: 40_000_000, output: 8_000_000 },
      cost_nano: 5_000_000_000n,
    }),
    makeEvent({
      id: 'b1',
      tenant: 'beta',
      project: 'support',
      time: at(5),
      buckets: { input: 2_000_000, output: 300_000 },
      cost_nano: 8_000_000_000n,
    }),
    makeEvent({
      id: 'b2',
      tenant: 'beta',
      project: 'support',
      time: at(6),
      provider: 'acme-vllm',
      requested_model: 'llama-3.1-8b',
      model: 'llama-3.1-8b',
      buckets: { input: 10_000_000, output: 1_000_000 },
      cost_nano: 1_000_000_000n,
    }),
  ]);
  // What `pertoken serve` would answer on GET /api/v1/chargeback?period=2026-10, built as server.ts builds it.
  const { attribution } = await openAttribution(loadConfigFile(configFile, {}), dataDir, store);
  expected = await attribution.chargeback('2026-10');
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function chargeback(env: Env, ...args: string[]): Promise<MemoryIo> {
  const io = memoryIo();
  await chargebackCommand(io, env).exitOverride().parseAsync(args, { from: 'user' });
  return io;
}

const local = (...args: string[]): Promise<MemoryIo> =>
  chargeback({}, '--data-dir', dataDir, '--config', configFile, '--period', '2026-10', ...args);

/** What the CLI prints for a failure (main.ts): one line naming the flag. */
async function failure(run: Promise<unknown>): Promise<string> {
  const err = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PertokenError);
  return (err as PertokenError).toLine();
}

describe('pertoken chargeback (local ledger)', () => {
  it('--format json is the statement AttributionService gives, with pools, shared costs and plans applied', async () => {
    const io = await local('--format', 'json');
    expect(JSON.parse(io.out())).toEqual(expected);
    expect(io.err()).toBe('');
    // The config was applied: a pool's self-hosted lines and idle, the shared cost, both plans.
    expect(expected.tenants.map((t) => [t.tenant, t.basis])).toEqual([
      ['acme', 'plan'],
      ['beta', 'plan'],
    ]);
    const kinds = new Set(expected.tenants.flatMap((t) => t.lines.map((l) => l.kind)));
    expect([...kinds].sort()).toEqual(['selfhosted', 'shared', 'vendor']);
    expect(expected.unallocated?.idle_usd).not.toBe('0.000000000');
    expect(expected.inputs?.shared_usd).toBe('1200.000000000');
  });

  it('--format csv has a header and one row per line, plus the unallocated idle', async () => {
    const rows = (await local('--format', 'csv')).out().trimEnd().split('\n');
    expect(rows[0]).toBe(
      'period,tenant,basis,kind,project,provider,model,bucket,tokens,cost_usd,charge_usd,included_usd,list_cost_usd',
    );
    const lines = expected.tenants.flatMap((t) => t.lines.map((l) => ({ tenant: t.tenant, ...l })));
    expect(rows).toHaveLength(1 + lines.length + 1);
    lines.forEach((l, i) => {
      expect(rows[1 + i]).toMatch(new RegExp(`^2026-10,${l.tenant},plan,${l.kind},.*,${l.cost_usd},${l.charge_usd},`));
    });
    expect(rows.at(-1)).toBe(
      `2026-10,,,idle,,__unallocated__,idle,,0,${expected.unallocated?.idle_usd},0.000000000,0.000000000,`,
    );
  });

  it('--format table prints the summary and the identity; --lines adds each tenant’s lines', async () => {
    const table = (await local()).out();
    expect(table).toMatch(/^pertoken chargeback 2026-10: /);
    expect(table).toMatch(new RegExp(`^acme\\s+.*${expected.tenants[0]!.cost_usd}`, 'm'));
    expect(table).toMatch(new RegExp(`^TOTAL\\s+.*${expected.totals.cost_usd}`, 'm'));
    expect(table).toContain(`= ${expected.inputs!.total_usd}\n`);
    expect(table).not.toMatch(/^kind\s+project/m);
    const withLines = (await local('--lines')).out();
    expect(withLines.match(/^kind\s+project\s+provider\s+model\s+bucket/gm)).toHaveLength(2);
  });

  it('--tenant narrows the statement; --format html --out writes the printable file', async () => {
    const out = join(dir, 'oct.html');
    const io = await local('--tenant', 'beta', '--format', 'html', '--out', out);
    expect(io.out()).toBe('');
    expect(io.err()).toBe(`wrote ${out}: 2026-10, 1 tenant(s)\n`);
    const html = readFileSync(out, 'utf8');
    expect(html.match(/<section class="tenant/g)).toHaveLength(1);
    expect(html).toContain('<h2>beta</h2>');
    expect(html).not.toContain('<h2>acme</h2>');
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('a bad --period fails with one line naming the flag, before the ledger is opened', async () => {
    const line = await failure(chargeback({}, '--period', '2026-13', '--data-dir', join(dir, 'nowhere')));
    expect(line).toBe('error: --period: expected a month as YYYY-MM, got "2026-13"');
    expect(await failure(local('--format', 'pdf'))).toBe(
      'error: --format: must be table, json, csv or html, got "pdf"',
    );
  });

  it('refuses a data dir with no ledger rather than reporting $0 from a new one', async () => {
    const empty = join(dir, 'typo');
    mkdirSync(empty);
    const line = await failure(chargeback({}, '--period', '2026-10', '--data-dir', empty, '--config', configFile));
    expect(line).toMatch(/^error: --data-dir: no ledger at .*typo/);
    expect(existsSync(join(empty, 'ledger.sqlite'))).toBe(false);
    const fromEnv = await failure(
      chargeback({ PERTOKEN_DATA_DIR: empty }, '--period', '2026-10', '--config', configFile),
    );
    expect(fromEnv).toMatch(/^error: PERTOKEN_DATA_DIR: no ledger at/);
  });
});

describe('pertoken chargeback --url', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      const period = new URL(req.url ?? '/', 'http://x').searchParams.get('period');
      if (period === '1999-01') {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { type: 'invalid_request_error', code: 'invalid_request', message: 'too old', param: 'period' },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(expected));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('asks GET /api/v1/chargeback with the period, the tenant and PERTOKEN_ADMIN_TOKEN as bearer', async () => {
    const io = await chargeback(
      { PERTOKEN_ADMIN_TOKEN: 'secret' },
      '--url',
      url,
      '--period',
      '2026-10',
      '--tenant',
      'beta',
      '--format',
      'json',
    );
    expect(seen.at(-1)).toMatchObject({
      url: '/api/v1/chargeback?period=2026-10&tenant=beta',
      headers: { authorization: 'Bearer secret' },
    });
    expect(JSON.parse(io.out())).toEqual(expected);
  });

  it("turns the API's error into one line naming the CLI flag", async () => {
    expect(await failure(chargeback({}, '--url', url, '--period', '1999-01'))).toBe('error: --period: too old');
    expect(await failure(chargeback({}, '--url', 'http://127.0.0.1:9', '--period', '2026-10'))).toMatch(
      /^error: --url: cannot reach http:\/\/127\.0\.0\.1:9/,
    );
  });
});
