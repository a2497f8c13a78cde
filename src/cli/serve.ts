import { Command } from 'commander';
import { startPertoken } from '../server.js';
import { parsePort, resolveConfig } from './context.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';

interface ServeOptions {
  config?: string;
  port?: string;
  dataDir?: string;
  demo?: boolean;
}

/**
 * `pertoken serve`. It prints nothing itself: the server's JSON log goes through its own pino
 * destination (fd 1), so `io` is taken only for the signature every command shares.
 */
export function serveCommand(_io: CliIo = processIo(), env: Env = process.env): Command {
  return new Command('serve')
    .description('run the metering gateway, APIs and metrics on one port')
    .option('--config <file>', 'pertoken.yaml (default PERTOKEN_CONFIG or ./pertoken.yaml)')
    .option('--port <n>', 'port (default PERTOKEN_PORT or 4000)')
    .option('--data-dir <dir>', 'embedded store directory (default PERTOKEN_DATA_DIR or ./.pertoken)')
    .option('--demo', 'serve the built-in simulated upstream (automatic when no upstream is configured)')
    .action(async (options: ServeOptions) => {
      const config = resolveConfig(options.config, env);
      const port =
        options.port !== undefined
          ? parsePort(options.port)
          : env.PERTOKEN_PORT !== undefined
            ? parsePort(env.PERTOKEN_PORT, 'PERTOKEN_PORT')
            : undefined;
      const running = await startPertoken({
        config,
        env,
        ...(port !== undefined ? { port } : {}),
        ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
        demo: options.demo ?? false,
      });
      const stop = (): void => {
        void running.shutdown().then(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
