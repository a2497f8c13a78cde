import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { PertokenError } from '../errors.js';
import { fuzzParameters, pathsOf, withAt, type JsonPath } from '../testing/fuzz.js';
import { loadConfigFile, parseConfig, type Env } from './index.js';

/**
 * pertoken.yaml under fire: a full valid config with one part replaced by anything (wrong types,
 * unknown keys, missing fields, `${VAR}` references), random YAML documents and random bytes.
 * Loading gives a frozen config or a PertokenError('config_invalid') that names the field —
 * never another exception.
 */

const RUNS = 200;

/** Every section of the README's examples, valid together. */
const BASE_YAML = `
upstreams:
  - { name: openai, kind: openai, base_url: https://api.openai.com/v1, api_key: "\${OPENAI_API_KEY}" }
  - { name: anthropic, kind: anthropic, base_url: https://api.anthropic.com, api_key: "\${ANTHROPIC_API_KEY:-none}" }
  - { name: vllm, kind: openai, provider: acme-vllm, base_url: http://10.0.0.5:8000/v1 }
routes:
  - { match: "claude-*", upstream: anthropic }
  - { match: "llama-*", upstream: vllm }
  - { match: "*", upstream: openai }
prices:
  - { provider: openai, model: gpt-4o, from: 2026-01-01, discount_pct: 12 }
  - { provider: acme-vllm, model: llama-3.1-8b, from: 2026-11-01, input: 0.05, output: 0.20 }
tenants:
  - { id: acme, rpm: 600, projects: [{ id: search, tpm: 100000 }, { id: support }] }
  - { id: beta }
keys:
  - { id: ci_bot, tenant: acme, scopes: [chat, read], key: "\${CI_BOT_KEY}" }
budgets:
  - { id: acme-month, scope: { tenant: acme }, period: month, tz: Europe/Berlin, limit_usd: "100", fail_mode: closed }
routing:
  aliases: { fast: gpt-4o-mini, smart: gpt-4o }
  fallbacks: { gpt-4o: [gpt-4o-mini] }
gpu_pools:
  - name: h100-east
    gpu: h100-sxm
    gpus: 8
    rates:
      - { from: 2026-10-01, usd_per_gpu_hour: 2.99, pricing: on_demand }
    serves: [acme-vllm]
    capacity: { output_tokens_per_s: 12000, input_tokens_per_s: 90000 }
    output_weight: 4
    idle: line
shared_costs:
  - { name: observability, usd: 1200, per: month, from: 2026-10-01, allocate: by_cost, tenants: [acme, beta] }
plans:
  - { tenant: acme, markup_pct: 20 }
  - { tenant: beta, rates: [{ model: "gpt-4o*", input: 3.00, output: 12.00 }] }
billing_accounts:
  - { provider: openai, project_id: proj_abc, tenant: acme, project: search }
  - { provider: anthropic, workspace_id: wrkspc_01, tenant: acme, project: support }
alerts:
  sinks:
    - { kind: webhook, url: "https://ops.example/pertoken", secret: "\${WEBHOOK_SECRET}" }
    - { kind: alertmanager, url: "http://127.0.0.1:9093" }
  routes:
    - { match: { tenant: acme }, sinks: [webhook-1] }
    - { match: { severity: page }, sinks: [alertmanager-2] }
`;

const ENV: Env = {
  OPENAI_API_KEY: 'sk-test',
  CI_BOT_KEY: `pt-ci_bot-${'A'.repeat(32)}`,
  WEBHOOK_SECRET: 'whsec-0123456789abcdef',
};

type Path = JsonPath;

const base = parseYaml(BASE_YAML) as Record<string, unknown>;
const PATHS = pathsOf(base);

/** What an operator (or a typo) may put anywhere. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      null,
      '',
      '${UNSET_VAR}',
      '${UNSET_VAR:-fallback}',
      '${OPENAI_API_KEY}',
      '${',
      -1,
      0,
      1e300,
      0.1,
      '2026-02-30',
      '*',
      'acme',
      'nope',
      [],
      {},
      { unknown_key: 1 },
      'http://[::1',
      'x'.repeat(300),
    ),
  },
);

/** `upstreams[0].kind`, as config errors write a path. */
const formatPath = (path: Path): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The first segment of a param like `upstreams[0].kind` (the top-level section it names). */
const section = (param: string): string => /^[^.[]*/.exec(param)?.[0] ?? '';

function expectConfigOutcome(load: () => unknown, document: unknown): void {
  let config: unknown;
  try {
    config = load();
  } catch (err) {
    if (!(err instanceof PertokenError)) throw err;
    expect(err.code).toBe('config_invalid');
    expect(err.message.length).toBeGreaterThan(0);
    const param = err.param ?? '';
    const isObject = document !== null && typeof document === 'object' && !Array.isArray(document);
    if (param === '') {
      // Only a problem with the document as a whole names no field: not a mapping, or a key
      // that is no section (the message names that key).
      if (isObject) expect(err.message).toMatch(/key|section/i);
    } else if (isObject) {
      expect(Object.keys(document as object)).toContain(section(param));
    }
    return;
  }
  expect(Object.isFrozen(config)).toBe(true);
}

const dir = mkdtempSync(join(tmpdir(), 'pertoken-config-fuzz-'));
// Random YAML sets off a warning per odd tag or directive (process.emitWarning): noise here.
beforeAll(() => vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined));
afterAll(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('config loading', () => {
  it('the base document is valid', () => {
    expect(() => parseConfig(base, ENV)).not.toThrow();
  });

  it('one part of a valid config replaced by anything: a config or an error naming the field', () => {
    const mutation = fc.record({ path: fc.constantFrom(...PATHS), value: valueArb });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        let doc: unknown = base;
        for (const m of mutations) doc = withAt(doc, m.path, m.value);
        expectConfigOutcome(() => parseConfig(doc, ENV), doc);
      }),
      fuzzParameters(RUNS),
    );
  });

  it('an unknown key anywhere is refused, naming where it is', () => {
    const objectPaths = PATHS.filter((p) => {
      let v: unknown = base;
      for (const k of p) v = (v as Record<string | number, unknown>)[k];
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    fc.assert(
      fc.property(fc.constantFrom(...objectPaths), fc.stringMatching(/^[a-z_]{1,12}$/), (path, key) => {
        let target: unknown = base;
        for (const k of path) target = (target as Record<string | number, unknown>)[k];
        fc.pre(!Object.keys(target as object).includes(key));
        const doc = withAt(base, [...path, key], 1);
        let error: unknown = null;
        try {
          parseConfig(doc, ENV);
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(PertokenError);
        const { code, param, message } = error as PertokenError;
        expect(code).toBe('config_invalid');
        // A fixed object names itself and the key; a map (aliases, fallbacks…) names the entry.
        const where = formatPath(path);
        if (param === where || (param ?? '') === where) expect(message).toContain(key);
        else expect(param ?? '').toMatch(new RegExp(`^${escape(formatPath([...path, key]))}`));
      }),
      fuzzParameters(RUNS),
    );
  });

  it('random YAML text from a file: a config or an error naming the field or the file', () => {
    const file = join(dir, 'pertoken.yaml');
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...'abc:- \n\t{}[],"\'&*!|>#%@`$'.split('')), maxLength: 120 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => stringifyYaml(v)),
      fc
        .tuple(fc.nat({ max: BASE_YAML.length }), fc.nat({ max: 40 }), fc.string({ maxLength: 10 }))
        .map(([at, cut, insert]) => BASE_YAML.slice(0, at) + insert + BASE_YAML.slice(at + cut)),
    );
    fc.assert(
      fc.property(text, (yaml) => {
        writeFileSync(file, yaml);
        let document: unknown = null;
        try {
          document = parseYaml(yaml);
        } catch {
          // a syntax error: loadConfigFile must name the file
        }
        try {
          loadConfigFile(file, ENV);
        } catch (err) {
          if (!(err instanceof PertokenError)) throw err;
          if (err.param === file) return;
          expectConfigOutcome(() => {
            throw err;
          }, document);
        }
      }),
      fuzzParameters(RUNS),
    );
  });
});
