// Turns raw runs into the figures that matter (added latency, ratios) and a markdown report.

const round = (x, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(digits));

/** Added latency = (via a proxy) − (direct to the upstream), per percentile; ratio = gateway / bare proxy. */
function added(runs, metric, q) {
  const direct = runs.direct[metric][q];
  const proxy = runs.proxy[metric][q];
  const gateway = runs.gateway[metric][q];
  const proxyAdded = proxy - direct;
  const gatewayAdded = gateway - direct;
  return {
    direct: round(direct),
    proxy: round(proxy),
    gateway: round(gateway),
    proxyAdded: round(proxyAdded),
    gatewayAdded: round(gatewayAdded),
    ratio: proxyAdded > 0 ? round(gatewayAdded / proxyAdded) : null,
  };
}

export function summarize(result) {
  const { latency, throughput } = result;
  const rows = [
    ['non-stream', 'total', latency.nonStream, 'latencyMs'],
    ['stream', 'last byte', latency.stream, 'latencyMs'],
    ['stream', 'TTFT', latency.stream, 'ttftMs'],
  ];
  const latencyRows = rows.flatMap(([mode, what, runs, metric]) =>
    ['p50', 'p99'].map((q) => ({ mode, what, q, ...added(runs, metric, q) })),
  );
  const throughputRows = Object.entries({ 'non-stream': throughput.nonStream, stream: throughput.stream }).map(
    ([mode, runs]) => ({
      mode,
      direct: Math.round(runs.direct.rps),
      proxy: Math.round(runs.proxy.rps),
      gateway: Math.round(runs.gateway.rps),
      ratio: round(runs.gateway.rps / runs.proxy.rps),
      cpuMicrosPerRequest: { proxy: runs.proxy.cpuMicrosPerRequest, gateway: runs.gateway.cpuMicrosPerRequest },
      cpuCostRatio: round(runs.gateway.cpuMicrosPerRequest / runs.proxy.cpuMicrosPerRequest),
      cpuPct: { proxy: runs.proxy.cpuPct, gateway: runs.gateway.cpuPct },
      loopDelayMaxMs: { proxy: runs.proxy.eventLoopDelayMs.max, gateway: runs.gateway.eventLoopDelayMs.max },
      p99Ms: {
        direct: round(runs.direct.latencyMs.p99),
        proxy: round(runs.proxy.latencyMs.p99),
        gateway: round(runs.gateway.latencyMs.p99),
      },
    }),
  );
  const p99 = latencyRows.filter((r) => r.q === 'p99' && r.what !== 'TTFT');
  return {
    latency: latencyRows,
    throughput: throughputRows,
    // The target: p99 added latency within 2x of the bare proxy's.
    p99Within2x: p99.every((r) => r.gatewayAdded <= 2 * Math.max(r.proxyAdded, 0)),
  };
}

const TARGETS_OTHER = (runs) => ['direct', 'proxy', 'gateway'].map((t) => runs[t].cpuPct.otherProcesses).join(' / ');

const fmt = (x) => (x === null ? 'n/a' : String(x));

export function markdownReport(result) {
  const { settings: s, summary, machine } = result;
  const lines = [];
  lines.push(`### pertoken vs bare proxy — ${result.date} (${result.durationS} s)`);
  lines.push('');
  lines.push(
    `${machine.cpu}, ${machine.nproc} cores, node ${machine.node}, load average at start ${machine.loadavgAtStart.join(' ')}; ` +
      `pinned: ${s.pin ? 'proxy/gateway on core 1, upstream + load on core 0' : 'no'}; ${s.rounds} interleaved rounds per target`,
  );
  lines.push('');
  const lu = s.latency.upstream;
  lines.push(
    `**Latency** — upstream TTFT ${lu.ttftMs} ms, ${lu.itlMs} ms/token, ${s.outputTokens} output tokens; closed loop, ${s.latency.concurrency} connections, ` +
      `${s.latency.requests.nonStream} non-stream / ${s.latency.requests.stream} stream requests per target. Times in ms.`,
  );
  lines.push('');
  lines.push('| mode | measure | q | direct | bare proxy | pertoken | added: proxy | added: pertoken | ratio |');
  lines.push('|---|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of summary.latency) {
    lines.push(
      `| ${r.mode} | ${r.what} | ${r.q} | ${fmt(r.direct)} | ${fmt(r.proxy)} | ${fmt(r.gateway)} | ${fmt(r.proxyAdded)} | ${fmt(r.gatewayAdded)} | ${fmt(r.ratio)} |`,
    );
  }
  lines.push('');
  for (const [m, label] of [
    ['nonStream', 'non-stream'],
    ['stream', 'stream'],
  ]) {
    const runs = result.latency[m];
    const delay = (t) => `${runs[t].eventLoopDelayMs.p99}/${runs[t].eventLoopDelayMs.max}`;
    lines.push(
      `- ${label}: event-loop delay p99/max ms, proxy ${delay('proxy')}, pertoken ${delay('gateway')}; ` +
        `CPU µs/req proxy ${runs.proxy.cpuMicrosPerRequest}, pertoken ${runs.gateway.cpuMicrosPerRequest}; CPU% of other processes (direct / proxy / pertoken) ${TARGETS_OTHER(runs)}`,
    );
  }
  lines.push('');
  const tu = s.throughput.upstream;
  lines.push(
    `**Max throughput** — upstream TTFT ${tu.ttftMs} ms, ${tu.itlMs} ms/token; closed loop, ${s.throughput.concurrency} connections, ${s.throughput.durationMs / 1000} s per target.`,
  );
  lines.push('');
  lines.push(
    '| mode | direct req/s | bare proxy req/s | pertoken req/s | ratio | CPU µs/req proxy / pertoken | ratio | CPU% proxy / pertoken | CPU% other processes | p99 ms direct / proxy / pertoken | loop delay max ms proxy / pertoken |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of summary.throughput) {
    const other = `${r.cpuPct.proxy.otherProcesses} / ${r.cpuPct.gateway.otherProcesses}`;
    lines.push(
      `| ${r.mode} | ${r.direct} | ${r.proxy} | ${r.gateway} | ${r.ratio} | ${r.cpuMicrosPerRequest.proxy} / ${r.cpuMicrosPerRequest.gateway} | ${r.cpuCostRatio} | ` +
        `${r.cpuPct.proxy.sut} / ${r.cpuPct.gateway.sut} | ${other} | ${r.p99Ms.direct} / ${r.p99Ms.proxy} / ${r.p99Ms.gateway} | ${r.loopDelayMaxMs.proxy} / ${r.loopDelayMaxMs.gateway} |`,
    );
  }
  lines.push('');
  lines.push(
    'CPU% is of one core (100 = a full core); "other processes" is CPU the rest of the machine used meanwhile, which competes for the same cores.',
  );
  lines.push('');
  lines.push('**Ledger check** (after each phase, gateway stopped)');
  lines.push('');
  lines.push('| phase | 200 responses via pertoken | failed | ledger events | open reservations | match |');
  lines.push('|---|---:|---:|---:|---:|---|');
  for (const phase of ['latency', 'throughput']) {
    const l = result[phase].ledger;
    lines.push(
      `| ${phase} | ${l.gatewayOk} | ${l.gatewayFailed} | ${l.events} | ${l.openReservations} | ${l.match ? 'yes' : 'NO'} |`,
    );
  }
  lines.push('');
  lines.push(`p99 added latency within 2x of the bare proxy: **${summary.p99Within2x ? 'yes' : 'no'}**`);
  return lines.join('\n');
}
