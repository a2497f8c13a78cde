import { describe, expect, it } from 'vitest';
import { adapterFor, ADAPTERS, ROUTE_IDS, type RouteId } from './index.js';

describe('adapterFor', () => {
  it.each([
    ['openai.chat', 'openai', '/chat/completions', true],
    ['openai.completions', 'openai', '/completions', true],
    ['openai.responses', 'openai', '/responses', true],
    ['openai.embeddings', 'openai', '/embeddings', true],
    ['anthropic.messages', 'anthropic', '/v1/messages', true],
    ['anthropic.count_tokens', 'anthropic', '/v1/messages/count_tokens', false],
  ] as const)('%s speaks %s at %s (metered: %s)', (route, wire, path, metered) => {
    const adapter = adapterFor(route);
    expect(adapter.route).toBe(route);
    expect(adapter.wire).toBe(wire);
    expect(adapter.upstreamPath).toBe(path);
    expect(adapter.metered).toBe(metered);
  });

  it('covers every route exactly once', () => {
    expect([...ROUTE_IDS].sort()).toEqual(Object.keys(ADAPTERS).sort());
    expect(ROUTE_IDS).toHaveLength(6);
  });

  it('throws for a route it does not know (untyped callers)', () => {
    expect(() => adapterFor('openai.images' as RouteId)).toThrow(/no adapter for route openai.images/);
  });
});
