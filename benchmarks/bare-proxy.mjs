/**
 * The baseline: the least a Node HTTP proxy can do. node:http in, an undici Pool out, the request
 * body streamed through, the response streamed back with back-pressure (pipeline), hop-by-hop
 * headers dropped. No parsing, no metering, no ledger.
 */
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
import { runChild } from './child.mjs';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

function forwardable(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

runChild(async ({ upstream }) => {
  // Same pool settings as pertoken's UpstreamPools, so both hops to the upstream are alike.
  const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 30_000 });
  const server = createServer({ keepAliveTimeout: 65_000 }, async (req, res) => {
    try {
      const up = await pool.request({
        method: req.method,
        path: req.url,
        headers: forwardable(req.headers),
        body: req,
      });
      res.writeHead(up.statusCode, forwardable(up.headers));
      await pipeline(up.body, res);
    } catch {
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pool.close();
    },
  };
});
