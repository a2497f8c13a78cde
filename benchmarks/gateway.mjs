// The system under test: pertoken as `pertoken serve` wires it (metering, pricing, SQLite ledger on).
import { parseConfig } from '../dist/config/index.js';
import { startPertoken } from '../dist/server.js';
import { runChild } from './child.mjs';

runChild(async ({ upstream, dataDir }) => {
  const config = parseConfig({
    upstreams: [{ name: 'demo', kind: 'openai', provider: 'openai', base_url: `${upstream}/v1` }],
  });
  const server = await startPertoken({
    config,
    env: { PERTOKEN_LOG_LEVEL: 'warn' },
    host: '127.0.0.1',
    port: 0,
    dataDir,
  });
  return { url: server.url, close: () => server.shutdown() };
});
