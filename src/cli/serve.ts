import { Command } from 'commander';
import { startPertoken } from '../server.js';
import { parsePort, resolveConfig } from './context.js';

interface ServeOptions {
  config?: string;
  port?: string;
  dataDir?: string;
  demo?: boolean;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the metering gateway, APIs and metrics on one port')
    .option('--config <file>', 'pertoken.yaml (default PERTOKEN_CONFIG or ./pertoken.yaml)')
    .option('--port <n>', 'port (default PERTOKEN_PORT or 4000)')
    .option('--data-dir <dir>', 'embedded store directory (default PERTOKEN_DATA_DIR or ./.pertoken)')
    .option('--demo', 'serve the built-in simulated upstream (automatic when no upstream is configured)')
    .action(async (options: ServeOptions) => {
      const env = process.env;
      const config = resolveConfig(options.config, env);
      const portText = options.port ?? env.PERTOKEN_PORT;
      const running = await startPertoken({
        config,
        env,
        ...(portText !== undefined ? { port: parsePort(portText) } : {}),
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
