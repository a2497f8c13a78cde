import { existsSync } from 'node:fs';
import { loadConfigFile, parseConfig, type Config, type Env } from '../config/index.js';
import { invalidInput } from '../errors.js';

/** The config file: `--config`, then PERTOKEN_CONFIG, then ./pertoken.yaml when present. */
export function resolveConfig(flag: string | undefined, env: Env): Config {
  const file = flag ?? env.PERTOKEN_CONFIG ?? (existsSync('pertoken.yaml') ? 'pertoken.yaml' : undefined);
  return file ? loadConfigFile(file, env) : parseConfig({}, env);
}

/** A TCP port from `--port` (or PERTOKEN_PORT, named as `param`), 0 for any free one. */
export function parsePort(value: string, param = '--port'): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw invalidInput(param, `must be an integer from 0 to 65535, got "${value}"`);
  return n;
}
