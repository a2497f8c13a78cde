import { describe, expect, it } from 'vitest';
import { adapterFor, ADAPTERS, ROUTE_IDS, type RouteId } from './index.js';

describe('ADAPTERS: each adapter owns its wire', () => {
  it.each([
    ['openai.chat', 'openai', '/v1/chat/completions', '/chat/completions', 'chat', true, ['data: [DONE]']],
    ['openai.completions', 'openai', '/v1/completions', '/completions', 'completions', true, ['data: [DONE]']],
    [
      'openai.responses',
      'openai',
      '/v1/responses',
      '/responses',
      'responses',
      true,
      ['"type":"response.completed"', '"type":"response.incomplete"', '"type":"response.failed"'],
    ],
    ['openai.embeddings', 'openai', '/v1/embeddings', '/embeddings', 'embeddings', true, null],
    [
      'anthropic.messages',
      'anthropic',
      '/v1/messages',
      '/v1/messages',
      'messages',
      true,
      ['event: message_stop', '"type":"message_stop"'],
    ],
    [
      'anthropic.count_tokens',
      'anthropic',
      '/v1/messages/count_tokens',
      '/v1/messages/count_tokens',
      'messages',
      false,
      null,
    ],
  ] as const)(
    '%s speaks %s at %s (upstream %s, scope %s, metered %s)',
    (route, wire, clientPath, upstreamPath, scope, metered, markers) => {
      const adapter = adapterFor(route);
      expect(adapter).toMatchObject({
        route,
        wire,
        clientPath,
        upstreamPath,
        scope,
        metered,
        terminalMarkers: markers,
      });
    },
  );

  it('covers every route exactly once, each on its own client path', () => {
    expect([...ROUTE_IDS].sort()).toEqual(Object.keys(ADAPTERS).sort());
    expect(ROUTE_IDS).toHaveLength(6);
    const paths = Object.values(ADAPTERS).map((a) => a.clientPath);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('an adapter without terminal markers never streams: its prepare drops `stream: true`', () => {
    for (const adapter of Object.values(ADAPTERS).filter((a) => a.terminalMarkers === null)) {
      const body = { model: 'm', input: 'x', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], stream: true };
      let prepared;
      try {
        prepared = adapter.prepare(body);
      } catch {
        continue; // refusing `stream: true` outright is as good as dropping it
      }
      expect({ route: adapter.route, stream: prepared.stream }).toEqual({ route: adapter.route, stream: false });
    }
  });

  it('throws for a route it does not know (untyped callers)', () => {
    expect(() => adapterFor('openai.images' as RouteId)).toThrow(/no adapter for route openai.images/);
  });
});
