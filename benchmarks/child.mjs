/**
 * The IPC protocol every child process of the benchmark speaks (servers and the load generator):
 * the parent sends a JSON config as the first message, the child answers `{ type: 'ready', ... }`;
 * afterwards `cpu` returns process.cpuUsage() and `stop` closes the child and exits it.
 * Each server lives in its own process so it never shares an event loop with the load generator.
 */
export function runChild(start) {
  process.once('message', async (config) => {
    let handle;
    try {
      handle = await start(config);
    } catch (err) {
      console.error(err);
      process.exit(1);
    }
    process.on('message', async (msg) => {
      if (msg.type === 'cpu') process.send({ type: 'cpu', id: msg.id, usage: process.cpuUsage() });
      else if (msg.type === 'stop') {
        await handle.close?.();
        process.send({ type: 'stopped' }, () => process.exit(0));
      } else {
        const reply = await handle.onMessage?.(msg);
        process.send({ type: 'reply', id: msg.id, reply });
      }
    });
    process.send({ type: 'ready', url: handle.url ?? null });
  });
}
