import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.js';
import { sampleValue } from './schema-value.js';

const sample = (schema: unknown): unknown => sampleValue(schema, seededRandom(1));

describe('sampleValue', () => {
  it('fills required properties only, each with a value of its type', () => {
    const value = sample({
      type: 'object',
      properties: {
        city: { type: 'string' },
        days: { type: 'integer' },
        metric: { type: 'boolean' },
        ratio: { type: 'number' },
        note: { type: 'string' },
      },
      required: ['city', 'days', 'metric', 'ratio'],
      additionalProperties: false,
    });
    expect(value).toEqual({ city: expect.any(String), days: 1, metric: true, ratio: 1 });
    expect((value as { city: string }).city.length).toBeGreaterThan(0);
  });

  it('takes const, the first enum value, and the non-null branch of a nullable field', () => {
    expect(sample({ const: 'fixed' })).toBe('fixed');
    expect(sample({ type: 'string', enum: ['celsius', 'fahrenheit'] })).toBe('celsius');
    expect(sample({ anyOf: [{ type: 'null' }, { type: 'integer' }] })).toBe(1);
    expect(sample({ type: ['null', 'boolean'] })).toBe(true);
    expect(sample({ type: 'null' })).toBeNull();
  });

  it('honours numeric bounds and multipleOf', () => {
    expect(sample({ type: 'integer', minimum: 5, maximum: 9 })).toBe(5);
    expect(sample({ type: 'integer', maximum: -3 })).toBe(-3);
    expect(sample({ type: 'integer', exclusiveMinimum: 1 })).toBe(2);
    expect(sample({ type: 'integer', minimum: 7, multipleOf: 5 })).toBe(10);
    expect(sample({ type: 'number', exclusiveMinimum: 1, exclusiveMaximum: 2 })).toBe(1.5);
    expect(sample({ type: 'number', minimum: 0.25, maximum: 0.5 })).toBe(0.5);
  });

  it('shapes strings by format and length bounds', () => {
    expect(sample({ type: 'string', format: 'date-time' })).toBe('2025-01-01T00:00:00Z');
    expect(sample({ type: 'string', format: 'email' })).toBe('user@example.com');
    expect(sample({ type: 'string', format: 'uuid' })).toMatch(/^[0-9a-f-]{36}$/);
    expect((sample({ type: 'string', minLength: 40 }) as string).length).toBeGreaterThanOrEqual(40);
    expect((sample({ type: 'string', maxLength: 2 }) as string).length).toBeLessThanOrEqual(2);
  });

  it('builds arrays with at least one item (minItems when larger, tuples by prefixItems)', () => {
    expect(sample({ type: 'array', items: { type: 'integer' } })).toEqual([1]);
    expect(sample({ type: 'array', items: { type: 'boolean' }, minItems: 3 })).toEqual([true, true, true]);
    expect(sample({ type: 'array', maxItems: 0 })).toEqual([]);
    expect(sample({ type: 'array', prefixItems: [{ const: 'a' }, { type: 'integer' }] })).toEqual(['a', 1]);
  });

  it('resolves local $ref, merges allOf, infers a missing type, and stops on recursion', () => {
    const schema = {
      $defs: {
        unit: { enum: ['kg'] },
        node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } }, required: ['next'] },
      },
      type: 'object',
      properties: { unit: { $ref: '#/$defs/unit' }, tree: { $ref: '#/$defs/node' } },
      required: ['unit', 'tree'],
    };
    const value = sample(schema) as { unit: string; tree: unknown };
    expect(value.unit).toBe('kg');
    expect(JSON.stringify(value.tree)).toContain('{"next":');
    const allOf = [
      { properties: { a: { type: 'integer' } }, required: ['a'] },
      { required: ['b'], properties: { b: { const: 2 } } },
    ];
    expect(sample({ allOf })).toEqual({ a: 1, b: 2 });
    expect(sample({ properties: { x: { minimum: 3 } }, required: ['x'] })).toEqual({ x: 3 });
  });

  it('is deterministic for a seed', () => {
    const schema = { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] };
    expect(sampleValue(schema, seededRandom(9))).toEqual(sampleValue(schema, seededRandom(9)));
  });
});
