// Shared helpers of the ledger benchmarks: machine description, percentiles, a served pertoken.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = `${ROOT}dist/cli/main.js`;
/** Fixed end of the seeded period, so that runs on different days load the same data. */
export const END = new Date('2026-11-01T00:00:00Z');

export function machine() {
  const cpu =
    readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return {
    cpu: cpu.trim(),
    nproc: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadavgAtStart: load,
  };
}

export function percentile(samples, q) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function canReach(url, timeoutMs = 1500) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 5432), hostname || '127.0.0.1', () => done(true));
  });
}

/** `pertoken serve` on port 0 (demo upstream) in its own process; resolves once it listens. */
export function startServe(dataDir, env = {}) {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, PERTOKEN_LOG_LEVEL: 'info', PERTOKEN_ADMIN_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (c) => (err += c));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      for (const line of out.split('\n')) {
        if (!line.includes('pertoken listening')) continue;
        proc.stdout.off('data', onData);
        proc.stdout.resume();
        const { port } = JSON.parse(line);
        resolve({
          url: `http://127.0.0.1:${port}`,
          pid: proc.pid,
          stop: () =>
            new Promise((done) => {
              proc.once('exit', done);
              proc.kill('SIGTERM');
            }),
        });
        return;
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`pertoken serve exited (${code}) before listening: ${err}${out}`)));
  });
}

export function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}
