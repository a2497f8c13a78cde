import { describe, expect, it } from 'vitest';
import { parseConfig } from './config/index.js';
import { createModelRouter } from './gateway/index.js';
import { globMatch, isGlob, modelFamilyMatch } from './glob.js';
import { maxOutputTokens } from './governance/index.js';
import { compileOverrides, matchOverrides } from './pricing/overrides.js';

describe('the one glob rule', () => {
  it.each([
    ['gpt-4o*', 'gpt-4o-mini', true],
    ['gpt-4o*', 'gpt-4o', true],
    ['GPT-4o*', 'gpt-4o-2024-08-06', true],
    ['claude-?-haiku', 'claude-3-haiku', true],
    ['claude-?-haiku', 'claude-35-haiku', false],
    ['gpt-4o', 'gpt-4o-mini', false],
    ['*mini', 'o4-mini', true],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
  ])('%s against %s: %s', (glob, value, expected) => {
    expect(globMatch(glob, value)).toBe(expected);
  });

  it('tells globs from plain names', () => {
    expect([isGlob('gpt-4o*'), isGlob('claude-?'), isGlob('gpt-4o')]).toEqual([true, true, false]);
  });

  it('a plain model name matches its family: itself and dated snapshots, never a sibling family', () => {
    expect(modelFamilyMatch('gpt-4o', 'gpt-4o-2024-08-06')).toBe(true);
    expect(modelFamilyMatch('gpt-4o', 'GPT-4o')).toBe(true);
    expect(modelFamilyMatch('claude-3-5-haiku', 'claude-3-5-haiku-20241022')).toBe(true);
    expect(modelFamilyMatch('claude-3-5-haiku', 'claude-3-5-haiku@20241022')).toBe(true);
    expect(modelFamilyMatch('claude-3-5-haiku', 'claude-3-5-haiku-latest')).toBe(true);
    expect(modelFamilyMatch('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(modelFamilyMatch('gpt-4o', 'gpt-4o-mini-2024-07-18')).toBe(false);
    expect(modelFamilyMatch('gpt-4o*', 'gpt-4o-mini')).toBe(true);
  });
});

describe('each use follows it', () => {
  it('routes: `routes[].match` is case-insensitive', () => {
    const config = parseConfig({
      upstreams: [
        { name: 'oa', kind: 'openai', base_url: 'http://127.0.0.1:1/v1' },
        { name: 'vllm', kind: 'openai', provider: 'acme-vllm', base_url: 'http://127.0.0.1:2/v1' },
      ],
      routes: [
        { match: 'Llama-*', upstream: 'vllm' },
        { match: '*', upstream: 'oa' },
      ],
    });
    const router = createModelRouter(config.upstreams, config.routes);
    expect(router.resolve('llama-3.1-8b', 'openai').name).toBe('vllm');
    expect(router.resolve('LLAMA-3.1-8B', 'openai').name).toBe('vllm');
    expect(router.resolve('gpt-4o', 'openai').name).toBe('oa');
  });

  it('price overrides: a glob and a plain name are both case-insensitive, `?` is a wildcard', () => {
    const overrides = compileOverrides([
      { provider: 'openai', model: 'GPT-4o*', from: '2026-01-01', discount_pct: 10 },
      { provider: 'openai', model: 'o?-mini', from: '2026-01-01', discount_pct: 20 },
    ]);
    const at = new Date('2026-06-01T00:00:00Z');
    expect(matchOverrides(overrides, 'openai', ['gpt-4o-2024-08-06'], at)).toHaveLength(1);
    expect(matchOverrides(overrides, 'openai', ['o4-mini'], at)).toHaveLength(1);
    expect(matchOverrides(overrides, 'openai', ['o4-mini-high'], at)).toHaveLength(0);
  });

  it('output ceilings (`routing.max_output_tokens`): case-insensitive', () => {
    expect(maxOutputTokens('MY-Model-7b', null, { 'my-model-*': 1234 })).toBe(1234);
  });
});
