import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { thrownBy } from '../testing/errors.js';
import { loadConfigFile, parseConfig } from './index.js';

const upstreams = [
  { name: 'openai', kind: 'openai', base_url: 'https://api.openai.com/v1', api_key: '${OPENAI_API_KEY}' },
  {
    name: 'anthropic',
    kind: 'anthropic',
    base_url: 'https://api.anthropic.com',
    api_key: '${ANTHROPIC_API_KEY:-none}',
  },
];

describe('config', () => {
  it('applies defaults, interpolates env and freezes the result', () => {
    const config = parseConfig(
      { upstreams, routes: [{ match: 'claude-*', upstream: 'anthropic' }] },
      { OPENAI_API_KEY: 'sk-test' },
    );
    expect(config.server.port).toBe(4000);
    expect(config.upstreams[0]?.api_key).toBe('sk-test');
    expect(config.upstreams[1]?.api_key).toBe('none');
    expect(config.upstreams[0]?.timeouts.connect_ms).toBe(10_000);
    expect(Object.isFrozen(config.upstreams[0])).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('names a missing environment variable with the field path', () => {
    const err = thrownBy(() => parseConfig({ upstreams }, {}));
    expect(err.code).toBe('config_invalid');
    expect(err.param).toBe('upstreams[0].api_key');
    expect(err.message).toContain('OPENAI_API_KEY');
  });

  it.each([
    [{ upstreams: [{ ...upstreams[1], kind: 'cohere' }] }, 'upstreams[0].kind'],
    [{ upstreams: [{ ...upstreams[1], base_url: 'ftp://x' }] }, 'upstreams[0].base_url'],
    [{ upstreams: [upstreams[1], upstreams[1]] }, 'upstreams[1].name'],
    [{ upstreams: [upstreams[1]], routes: [{ match: '*', upstream: 'nope' }] }, 'routes[0].upstream'],
    [{ prices: [{ provider: 'openai', model: 'gpt-4o', from: '2026/01/01' }] }, 'prices[0].from'],
    [{ server: { port: 70000 } }, 'server.port'],
    [{ server: { headers_timeout_ms: 5000, request_timeout_ms: 1000 } }, 'server.headers_timeout_ms'],
    [{ unknown_section: 1 }, ''],
  ])('rejects %j at %s', (document, path) => {
    const err = thrownBy(() => parseConfig(document, { OPENAI_API_KEY: 'x' }));
    expect(err.code).toBe('config_invalid');
    expect(err.param ?? '').toBe(path);
  });

  it('reads YAML files and reports syntax errors with the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pertoken-config-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'upstreams:\n  - name: local\n    kind: openai\n    base_url: http://127.0.0.1:8000/v1\nroutes:\n  - { match: "*", upstream: local }\n',
    );
    expect(loadConfigFile(good).upstreams[0]?.provider).toBeUndefined();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'upstreams: [\n');
    const err = thrownBy(() => loadConfigFile(bad));
    expect(err.param).toBe(bad);
    expect(err.message).toMatch(/YAML syntax error/);
    expect(thrownBy(() => loadConfigFile(join(dir, 'missing.yaml'))).message).toContain('ENOENT');
  });
});
