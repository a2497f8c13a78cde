/**
 * The IPC protocol every child process of the benchmark speaks (servers and the load generator):
 * the parent sends a JSON config as the first message, the child answers `{ type: 'ready', ... }`;
 * afterwards `cpu` returns process.cpuUsage() and the event-loop delay histogram (reset on every
 * call: how long callbacks waited behind blocking work), and `stop` closes the child and exits it.
 * Each server lives in its own process so it never shares an event loop with the load generator.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export function runChild(start) {
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  process.once('message', async (config) => {
    let handle;
    try {
      handle = await start(config);
    } catch (err) {
      console.error(err);
      process.exit(1);
    }
    process.on('message', async (msg) => {
      if (msg.type === 'cpu') {
        // Delays are reported beyond the 10 ms sampling interval itself.
        const ms = (ns) => Math.max(0, Number((ns / 1e6 - 10).toFixed(2)));
        const eventLoopDelayMs = { p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
        loopDelay.reset();
        process.send({ type: 'cpu', id: msg.id, usage: process.cpuUsage(), eventLoopDelayMs });
      } else if (msg.type === 'stop') {
        await handle.close?.();
        process.send({ type: 'stopped' }, () => process.exit(0));
      } else {
        const reply = await handle.onMessage?.(msg);
        process.send({ type: 'reply', id: msg.id, reply });
      }
    });
    loopDelay.enable();
    process.send({ type: 'ready', url: handle.url ?? null });
  });
}
