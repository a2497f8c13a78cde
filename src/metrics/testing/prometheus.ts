import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';

/**
 * The real Prometheus tools for tests (excluded from the build): Debian's `prometheus` package
 * (2.42) ships both binaries. Without them the cases are skipped with a visible message, except
 * under CI=true, where a missing binary fails the run (CI installs the package).
 */
export const PROMTOOL = process.env.PERTOKEN_PROMTOOL ?? '/usr/bin/promtool';
export const PROMETHEUS = process.env.PERTOKEN_PROMETHEUS ?? '/usr/bin/prometheus';

export function binarySkipReason(path: string): string | null {
  if (existsSync(path)) return null;
  const message = `${path} is not installed (apt-get install -y prometheus)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it`);
  console.warn(`\n  !! ${message}: SKIPPING the cases that need it\n`);
  return message;
}

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function promtool(args: readonly string[], cwd?: string): ToolRun {
  const run = spawnSync(PROMTOOL, args, { encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

export function tempFiles(files: Record<string, string>): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pertoken-prom-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port nobody listens on right now (the OS picks it; Prometheus binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningPrometheus {
  url: string;
  /** GET /api/v1/query; the vector result (empty until the series exist). */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  /** Output so far (for a failing assertion's message). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts Prometheus on 127.0.0.1 with a temp TSDB, scraping `target` every second with `rules`. */
export async function startPrometheus(target: string, rules: string): Promise<RunningPrometheus> {
  const host = new URL(target).host;
  const { dir, cleanup } = tempFiles({
    'rules.yml': rules,
    'prometheus.yml': [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files: [rules.yml]',
      'scrape_configs:',
      '  - job_name: pertoken',
      `    static_configs: [{ targets: ['${host}'] }]`,
      '',
    ].join('\n'),
  });
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async query(expr) {
      const res = await request(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.body.json()) as {
        status: string;
        data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        error?: string;
      };
      if (body.status !== 'success' || body.data?.resultType !== 'vector')
        throw new Error(`query ${expr} failed: ${body.error ?? JSON.stringify(body)}`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    log: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      cleanup();
    },
  };
}

/**
 * Polls `read` (every 250 ms, at most `deadlineMs`) until it returns a value; then that value.
 * Connection errors while Prometheus starts count as "not yet".
 */
export async function pollFor<T>(read: () => Promise<T | null>, deadlineMs: number): Promise<T | null> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      const value = await read();
      if (value !== null) return value;
    } catch {
      // not up yet
    }
    if (Date.now() >= end) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}
