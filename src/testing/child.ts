import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface ChildServer {
  proc: ChildProcess;
  url: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  stderr(): string;
}

/** Writes a pertoken.yaml pointing both wires at `upstream` and returns its path. */
export function writeUpstreamConfig(dir: string, upstream: string, extra = ''): string {
  const file = join(dir, 'pertoken.yaml');
  writeFileSync(
    file,
    `upstreams:\n  - { name: oa, kind: openai, provider: openai, base_url: "${upstream}/v1" }\n  - { name: an, kind: anthropic, base_url: "${upstream}" }\nserver:\n  drain_timeout_ms: 20000\n${extra}`,
  );
  return file;
}

/**
 * Runs the built CLI (`npm test` builds first) as a real process, so kill -9 hits a real
 * process with its own event loop and file handles; resolves once it logs its port.
 */
export function spawnServe(args: string[], env: Record<string, string> = {}): Promise<ChildServer> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    env: { ...process.env, PERTOKEN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('pertoken listening')) continue;
        const { port } = JSON.parse(line) as { port: number };
        proc.stdout?.off('data', onData);
        proc.stdout?.resume();
        resolve({ proc, url: `http://127.0.0.1:${port}`, exited, stderr: () => err });
        return;
      }
    };
    proc.stdout?.on('data', onData);
    void exited.then((code) => reject(new Error(`pertoken serve exited (${code}) before listening: ${err}${out}`)));
  });
}
