import { existsSync } from 'node:fs';
import { loadConfigFile, parseConfig, type Config, type Env } from '../config/index.js';

/** The config file: `--config`, then PERTOKEN_CONFIG, then ./pertoken.yaml when present. */
export function resolveConfig(flag: string | undefined, env: Env): Config {
  const file = flag ?? env.PERTOKEN_CONFIG ?? (existsSync('pertoken.yaml') ? 'pertoken.yaml' : undefined);
  return file ? loadConfigFile(file, env) : parseConfig({}, env);
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`--port must be an integer from 0 to 65535, got "${value}"`);
  return n;
}

export type OutputFormat = 'table' | 'json' | 'csv';

export function parseFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'json' || value === 'csv') return value;
  throw new Error(`--format must be table, json or csv, got "${value}"`);
}
