/**
 * `npm run bench`: pertoken (metering + SQLite ledger) against a bare undici proxy, both in front
 * of the same scripted upstream, each measured against going to the upstream directly.
 *
 * Phase "latency": a realistic upstream (TTFT 20 ms, 5 ms between tokens), moderate closed-loop
 * load, a fixed number of requests per target. Phase "throughput": an instant upstream, 64
 * concurrent connections for a fixed time: the most requests per second each path can carry.
 * Every server and the load generator run in their own process. Writes results/latest.json.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { startChild } from './processes.mjs';
import { markdownReport, summarize } from './report.mjs';
import { machineBusyMicros, percentiles } from './stats.mjs';

const quick = process.env.BENCH_QUICK === '1';
const scale = (n) => (quick ? Math.ceil(n / 10) : n);

const SETTINGS = {
  outputTokens: 32,
  // Each target's requests are split into rounds, and the targets take turns (in a rotating order)
  // round by round, so that a burst of unrelated load on the machine hits all three alike.
  rounds: 3,
  latency: {
    upstream: { ttftMs: 20, itlMs: 5 },
    concurrency: 16,
    warmupMs: scale(2000),
    requests: { nonStream: scale(3000), stream: scale(1500) },
  },
  throughput: { upstream: { ttftMs: 0, itlMs: 0 }, concurrency: 64, warmupMs: scale(2000), durationMs: scale(9000) },
  // Later rounds only need their fresh connections ramped up; the JIT is warm by then.
  roundWarmupMs: scale(500),
  // On a 2-core machine, the proxy under test gets core 1 and the upstream and load generator
  // share core 0, so that the two proxies are compared on the same core.
  pin: process.env.BENCH_PIN !== undefined ? process.env.BENCH_PIN === '1' : cpus().length === 2 && hasTaskset(),
  profileGateway: process.env.BENCH_PROFILE === '1',
};

const QUIET_PCT = 25;
const QUIET_WAIT_S = Number(process.env.BENCH_QUIET_WAIT_S ?? 300);

const TARGETS = ['direct', 'proxy', 'gateway'];
const MODES = [
  ['nonStream', false],
  ['stream', true],
];

function hasTaskset() {
  try {
    execSync('taskset -c 0 true', { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function machine() {
  const model =
    readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return {
    nproc: cpus().length,
    node: process.version,
    cpu: model.trim(),
    platform: `${process.platform} ${process.arch}`,
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  };
}

/**
 * Other work on this machine (test runs, builds) steals the cores the benchmark measures: wait,
 * bounded, for a quiet moment (< QUIET_PCT of one core busy over 2 s) before each phase.
 */
async function waitForQuiet() {
  const deadline = Date.now() + QUIET_WAIT_S * 1000;
  for (;;) {
    const before = machineBusyMicros();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const busyPct = ((machineBusyMicros() - before) / 2e6) * 100;
    if (busyPct < QUIET_PCT) return Math.round(busyPct);
    if (Date.now() > deadline) {
      console.error(
        `machine still ${Math.round(busyPct)}% busy after ${QUIET_WAIT_S} s; measuring anyway (see "other processes")`,
      );
      return Math.round(busyPct);
    }
    console.error(`machine ${Math.round(busyPct)}% busy with other processes; waiting for it to calm down`);
  }
}

async function runPhase(name, phase) {
  const idleBusyPct = await waitForQuiet();
  const pinTo = (cpu) => ({ cpus: SETTINGS.pin ? cpu : null });
  const dataDir = mkdtempSync(join(tmpdir(), `pertoken-bench-${name}-`));
  const upstream = await startChild(
    './upstream.mjs',
    { ...phase.upstream, outputTokens: SETTINGS.outputTokens },
    pinTo('0'),
  );
  const proxy = await startChild('./bare-proxy.mjs', { upstream: upstream.url }, pinTo('1'));
  const profile = SETTINGS.profileGateway
    ? ['--cpu-prof', `--cpu-prof-dir=${new URL('./results/profiles', import.meta.url).pathname}`]
    : [];
  const gatewayFlags = (process.env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const gateway = await startChild(
    './gateway.mjs',
    { upstream: upstream.url, dataDir },
    { ...pinTo('1'), execArgv: [...profile, ...gatewayFlags] },
  );
  const load = await startChild('./load.mjs', {}, pinTo('0'));
  const servers = { direct: upstream, proxy, gateway };
  const all = { upstream, proxy, gateway, load };

  const results = {};
  for (const [mode, stream] of MODES) {
    const acc = Object.fromEntries(TARGETS.map((t) => [t, newAccumulator()]));
    for (let round = 0; round < SETTINGS.rounds; round++) {
      const order = TARGETS.map((_, i) => TARGETS[(i + round) % TARGETS.length]);
      for (const target of order) {
        const before = await cpuOf(all);
        const run = await load.request({
          target: servers[target].url,
          stream,
          concurrency: phase.concurrency,
          outputTokens: SETTINGS.outputTokens,
          warmupMs: round === 0 ? phase.warmupMs : SETTINGS.roundWarmupMs,
          requests: phase.requests && Math.ceil(phase.requests[mode] / SETTINGS.rounds),
          durationMs: phase.durationMs && phase.durationMs / SETTINGS.rounds,
        });
        add(acc[target], run, before, await cpuOf(all), target);
      }
    }
    results[mode] = Object.fromEntries(TARGETS.map((t) => [t, finish(acc[t])]));
    for (const target of TARGETS) {
      const r = results[mode][target];
      console.error(
        `[${name}] ${mode} ${target}: ${r.ok} ok, ${r.failed} failed, ${r.rps} req/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, ` +
          `p99 ${r.latencyMs.p99.toFixed(2)} ms, ${r.cpuMicrosPerRequest ?? '-'} CPU us/req, loop delay p99/max ${r.eventLoopDelayMs.p99}/${r.eventLoopDelayMs.max} ms, other load ${r.cpuPct.otherProcesses}%`,
      );
    }
  }

  await Promise.all([load.stop(), gateway.stop(), proxy.stop()]);
  await upstream.stop();
  const gatewayOk = MODES.reduce((n, [mode]) => n + results[mode].gateway.ok + results[mode].gateway.warmupOk, 0);
  const gatewayFailed = MODES.reduce(
    (n, [mode]) => n + results[mode].gateway.failed + results[mode].gateway.warmupFailed,
    0,
  );
  results.busyPctBeforeStart = idleBusyPct;
  results.ledger = { ...countLedger(join(dataDir, 'ledger.sqlite')), gatewayOk, gatewayFailed };
  results.ledger.match = results.ledger.events === gatewayOk && results.ledger.openReservations === 0;
  rmSync(dataDir, { recursive: true, force: true });
  return results;
}

/** CPU microseconds used so far by each of our processes, and by the whole machine. */
async function cpuOf(processes) {
  const entries = await Promise.all(Object.entries(processes).map(async ([k, p]) => [k, await p.cpu()]));
  const loopDelay = Object.fromEntries(entries.map(([k, c]) => [k, c.eventLoopDelayMs]));
  return {
    ...Object.fromEntries(entries.map(([k, c]) => [k, c.micros])),
    loopDelay,
    machine: machineBusyMicros(),
    wall: performance.now() * 1000,
  };
}

function newAccumulator() {
  return {
    ok: 0,
    failed: 0,
    warmupOk: 0,
    warmupFailed: 0,
    elapsedMs: 0,
    totals: [],
    ttfts: [],
    cpu: { upstream: 0, sut: 0, load: 0, other: 0, wall: 0 },
    loopDelay: { p99: 0, max: 0 },
  };
}

function add(acc, run, before, after, target) {
  for (const k of ['ok', 'failed', 'warmupOk', 'warmupFailed', 'elapsedMs']) acc[k] += run[k];
  acc.totals.push(...run.totals);
  acc.ttfts.push(...run.ttfts);
  const used = (k) => after[k] - before[k];
  const ours = used('upstream') + used('proxy') + used('gateway') + used('load');
  acc.cpu.upstream += used('upstream');
  acc.cpu.load += used('load');
  // The server's event-loop delay over this run (the worst of the rounds).
  const delay = after.loopDelay[target === 'direct' ? 'upstream' : target];
  acc.loopDelay = { p99: Math.max(acc.loopDelay.p99, delay.p99), max: Math.max(acc.loopDelay.max, delay.max) };
  if (target !== 'direct') acc.cpu.sut += used(target);
  acc.cpu.other += Math.max(0, used('machine') - ours);
  acc.cpu.wall += used('wall');
}

function finish(acc) {
  const pct = (micros) => Math.round((micros / acc.cpu.wall) * 100);
  const served = acc.ok + acc.warmupOk;
  return {
    ok: acc.ok,
    failed: acc.failed,
    warmupOk: acc.warmupOk,
    warmupFailed: acc.warmupFailed,
    elapsedMs: Math.round(acc.elapsedMs),
    rps: Math.round(acc.ok / (acc.elapsedMs / 1000)),
    latencyMs: percentiles(acc.totals),
    ttftMs: percentiles(acc.ttfts),
    // Share of one core over the runs, warm-ups included. otherProcesses: whatever else the
    // machine ran meanwhile (it competes for the same two cores).
    cpuPct: {
      upstream: pct(acc.cpu.upstream),
      sut: acc.cpu.sut ? pct(acc.cpu.sut) : null,
      load: pct(acc.cpu.load),
      otherProcesses: pct(acc.cpu.other),
    },
    // The proxy's own CPU time per request served: robust to other load stealing the core.
    cpuMicrosPerRequest: acc.cpu.sut ? Math.round(acc.cpu.sut / served) : null,
    // How long the server's callbacks waited behind blocking work (10 ms sampling; worst round).
    eventLoopDelayMs: acc.loopDelay,
  };
}

/** Read after the gateway shut down: every response it sent must be one committed event. */
function countLedger(file) {
  const db = new Database(file, { readonly: true });
  try {
    const events = db.prepare('SELECT count(*) AS n FROM events').get().n;
    const openReservations = db.prepare('SELECT count(*) AS n FROM reservations').get().n;
    return { events, openReservations };
  } finally {
    db.close();
  }
}

if (SETTINGS.profileGateway)
  rmSync(new URL('./results/profiles', import.meta.url).pathname, { recursive: true, force: true });
const started = new Date();
const host = machine();
const phases = {};
for (const name of ['latency', 'throughput']) phases[name] = await runPhase(name, SETTINGS[name]);
const result = {
  date: started.toISOString(),
  durationS: Math.round((Date.now() - started.getTime()) / 1000),
  machine: host,
  settings: SETTINGS,
  ...phases,
};
result.summary = summarize(result);

const outDir = new URL('./results/', import.meta.url).pathname;
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
console.log(markdownReport(result));
if (!result.latency.ledger.match || !result.throughput.ledger.match) {
  console.error('ledger check FAILED: events do not match the requests sent through the gateway');
  process.exitCode = 1;
}
