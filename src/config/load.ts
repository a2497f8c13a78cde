import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { PertokenError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

export type Env = Readonly<Record<string, string | undefined>>;

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of the parsed document. A missing
 * variable without a default is an error naming the field, not an empty secret sent upstream.
 */
export function interpolate(value: unknown, env: Env, path: Array<string | number> = []): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_m, key: string, fallback: string | undefined) => {
      const found = env[key];
      if (found !== undefined) return found;
      if (fallback !== undefined) return fallback;
      throw new PertokenError('config_invalid', `environment variable ${key} is not set`, { param: formatPath(path) });
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...path, k])]));
  }
  return value;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function firstIssue(error: z.ZodError): PertokenError {
  const issue = error.issues[0];
  const param = issue ? formatPath(issue.path) : '';
  return new PertokenError('config_invalid', issue?.message ?? 'invalid configuration', { param: param || null });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Validates an already parsed document (YAML or object) into a frozen Config. */
export function parseConfig(document: unknown, env: Env = {}): Config {
  const result = configSchema.safeParse(interpolate(document ?? {}, env));
  if (!result.success) throw firstIssue(result.error);
  return deepFreeze(result.data);
}

/** Reads and validates `pertoken.yaml`; a bad file fails here with the path of the bad field. */
export function loadConfigFile(file: string, env: Env = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PertokenError(
      'config_invalid',
      `cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { param: file, cause: err },
    );
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new PertokenError('config_invalid', `YAML syntax error${where}`, { param: file, cause: err });
  }
  return parseConfig(document, env);
}
