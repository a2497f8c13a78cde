// Starting and talking to the benchmark's child processes (see child.mjs for the protocol).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

let nextId = 0;

/**
 * Starts `file` (relative to benchmarks/) with its config. `cpus` (e.g. "1") pins it with taskset;
 * `execArgv` passes node flags such as --cpu-prof.
 */
export async function startChild(file, config, { cpus = null, execArgv = [] } = {}) {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const node = [...execArgv, script];
  const [cmd, args] = cpus === null ? [process.execPath, node] : ['taskset', ['-c', cpus, process.execPath, ...node]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map();
  let onReady;
  const ready = new Promise((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
  });
  child.on('message', (msg) => {
    if (msg.type === 'ready') onReady(msg);
    else waiting.get(msg.id ?? msg.type)?.(msg);
  });
  const ask = (msg) =>
    new Promise((resolve) => {
      const id = msg.type === 'stop' ? 'stopped' : ++nextId;
      waiting.set(id, (reply) => {
        waiting.delete(id);
        resolve(reply);
      });
      child.send({ ...msg, id });
    });
  child.send(config);
  const { url } = await ready;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url,
    pid: child.pid,
    /** Sends a command to the child and resolves with its reply. */
    request: async (msg) => (await ask({ type: 'run', ...msg })).reply,
    /** CPU time (user + system) used so far in microseconds, and event-loop delay since the last call. */
    cpu: async () => {
      const { usage, eventLoopDelayMs } = await ask({ type: 'cpu' });
      return { micros: usage.user + usage.system, eventLoopDelayMs };
    },
    stop: async () => {
      await ask({ type: 'stop' });
      await exited;
    },
  };
}
