import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { tempDir } from '../../../ledger/testing/fixtures.js';

/**
 * A real Alertmanager for the sink's tests: Debian's `prometheus-alertmanager` package (CI
 * installs it). Without the binary the tests are skipped with a visible reason, except under
 * CI=true, where they must run.
 */
export const ALERTMANAGER_BIN = process.env.PERTOKEN_ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';

/** Null when the tests can run; why not otherwise. Throws under CI when the binary is missing. */
export function alertmanagerSkipReason(): string | null {
  if (existsSync(ALERTMANAGER_BIN)) return null;
  const message = `${ALERTMANAGER_BIN} is missing (apt-get install -y prometheus-alertmanager)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it`);
  console.warn(`\n  !! ${message}: SKIPPING the Alertmanager cases\n`);
  return `${message} (skipped)`;
}

export interface RunningAlertmanager {
  url: string;
  stop(): Promise<void>;
}

const CONFIG = `route:
  receiver: blackhole
  group_wait: 1s
receivers:
  - name: blackhole
`;

function freePort(): Promise<number> {
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

/** Starts Alertmanager on a free 127.0.0.1 port, clustering off, storage in a temp dir; resolves once ready. */
export async function startAlertmanager(deadlineMs = 20_000): Promise<RunningAlertmanager> {
  const { dir, cleanup } = tempDir('pertoken-am-');
  writeFileSync(join(dir, 'alertmanager.yml'), CONFIG);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async (): Promise<void> => {
    if (!gone) proc.kill('SIGTERM');
    await exited;
    cleanup();
  };
  const end = Date.now() + deadlineMs;
  while (Date.now() < end && !gone) {
    const ready = await request(`${url}/-/ready`, { headersTimeout: 1000, bodyTimeout: 1000 })
      .then(async (res) => {
        await res.body.text();
        return res.statusCode === 200;
      })
      .catch(() => false);
    if (ready) return { url, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`alertmanager did not become ready at ${url}: ${stderr.slice(-2000)}`);
}
