import { describe, expect, it } from 'vitest';
import { thrownBy } from '../testing/errors.js';
import { ADAPTERS } from './index.js';
import { MAX_BODY_DEPTH, requireObjectBody } from './request.js';

/** `depth` levels of arrays, the outermost included. */
function nested(depth: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

describe('requireObjectBody', () => {
  it('accepts a body nested up to MAX_BODY_DEPTH levels', () => {
    // The body is level 1, so its field may hold MAX_BODY_DEPTH - 1 levels.
    expect(() => requireObjectBody({ tools: nested(MAX_BODY_DEPTH - 1) })).not.toThrow();
  });

  it('refuses a deeper one naming the field, without recursing itself', () => {
    const err = thrownBy(() => requireObjectBody({ model: 'm', tools: nested(MAX_BODY_DEPTH) }));
    expect(err.param).toBe('tools');
    expect(err.message).toBe(`\`tools\` is nested deeper than ${MAX_BODY_DEPTH} levels`);
    // 200k levels: a recursive check (or JSON.stringify) would overflow the stack here.
    const deep = JSON.parse(`{"tools":${'['.repeat(200_000)}${']'.repeat(200_000)}}`) as unknown;
    expect(thrownBy(() => requireObjectBody(deep)).param).toBe('tools');
  });

  it.each(Object.values(ADAPTERS).map((a) => [a.route, a] as const))(
    '%s refuses a deeply nested body with a 400 instead of overflowing the stack',
    (_route, adapter) => {
      // Found by wire.fuzz.test.ts: `"tools": [[[[…]]]]` 200k deep answered 500 "Maximum call stack size exceeded".
      const body = JSON.parse(
        `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
      ) as unknown;
      const err = thrownBy(() => adapter.prepare(body));
      expect(err.code).toBe('invalid_request');
      expect(err.param).toBe('tools');
    },
  );
});
