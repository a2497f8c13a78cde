import { intBetween, type Rng } from './random.js';
import { generateTokens, isRecord } from './text.js';

/**
 * A small value valid for a JSON Schema, for the demo's tool-call arguments and structured
 * outputs: every required property gets the least value its schema allows (optional ones are left
 * out), strings are a few lorem words unless a `format` asks for a shape. It covers the keywords
 * tool and response schemas use in practice (type, properties, required, items, enum, const,
 * anyOf/oneOf/allOf, $ref, length and range bounds); `pattern` is not solved, so a value may miss it.
 */
export function sampleValue(schema: unknown, rng: Rng): unknown {
  return new Sampler(schema, rng).value(schema, 0);
}

/** Recursive schemas stop here, so a self-referencing required property cannot loop forever. */
const MAX_DEPTH = 16;

const FORMATS: Record<string, string> = {
  'date-time': '2025-01-01T00:00:00Z',
  date: '2025-01-01',
  time: '00:00:00Z',
  duration: 'P1D',
  email: 'user@example.com',
  'idn-email': 'user@example.com',
  hostname: 'example.com',
  'idn-hostname': 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  uri: 'https://example.com/',
  'uri-reference': 'https://example.com/',
  iri: 'https://example.com/',
  url: 'https://example.com/',
  uuid: '00000000-0000-4000-8000-000000000000',
};

class Sampler {
  readonly #root: unknown;
  readonly #rng: Rng;

  constructor(root: unknown, rng: Rng) {
    this.#root = root;
    this.#rng = rng;
  }

  value(schema: unknown, depth: number): unknown {
    if (depth > MAX_DEPTH) return null;
    // `true` and `{}` accept anything; a string reads best in an argument list.
    if (!isRecord(schema)) return this.#words();
    if (typeof schema.$ref === 'string') return this.value(this.#resolve(schema.$ref), depth + 1);
    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
    const alternatives = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null;
    if (alternatives && alternatives.length > 0) {
      // A nullable field is sampled as its non-null branch: a demo answer with content is more useful.
      const chosen = alternatives.find((alt) => !(isRecord(alt) && alt.type === 'null')) ?? alternatives[0];
      return this.value(chosen, depth + 1);
    }
    if (Array.isArray(schema.allOf)) return this.value(this.#mergeAllOf(schema), depth + 1);
    switch (typeOf(schema)) {
      case 'object':
        return this.#object(schema, depth);
      case 'array':
        return this.#array(schema, depth);
      case 'integer':
        return integerIn(schema);
      case 'number':
        return numberIn(schema);
      case 'boolean':
        return true;
      case 'null':
        return null;
      default:
        return this.#string(schema);
    }
  }

  #object(schema: Record<string, unknown>, depth: number): Record<string, unknown> {
    const properties = isRecord(schema.properties) ? schema.properties : {};
    const fallback = isRecord(schema.additionalProperties) ? schema.additionalProperties : {};
    const out: Record<string, unknown> = {};
    const required = Array.isArray(schema.required) ? schema.required : [];
    for (const name of required) {
      if (typeof name === 'string') out[name] = this.value(properties[name] ?? fallback, depth + 1);
    }
    return out;
  }

  #array(schema: Record<string, unknown>, depth: number): unknown[] {
    const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
    const min = nonNegativeInt(schema.minItems) ?? 0;
    const max = nonNegativeInt(schema.maxItems) ?? Number.POSITIVE_INFINITY;
    // One item rather than none when allowed: an empty list reads like a broken demo.
    const count = Math.min(Math.max(min, prefix.length, 1), max);
    const out: unknown[] = [];
    for (let i = 0; i < count; i++) out.push(this.value(prefix[i] ?? schema.items ?? {}, depth + 1));
    return out;
  }

  #string(schema: Record<string, unknown>): string {
    let text = typeof schema.format === 'string' ? (FORMATS[schema.format] ?? this.#words()) : this.#words();
    const min = nonNegativeInt(schema.minLength) ?? 0;
    while (text.length < min) text += ' lorem';
    const max = nonNegativeInt(schema.maxLength);
    return max === null ? text : text.slice(0, max);
  }

  #words(): string {
    return generateTokens(this.#rng, intBetween(this.#rng, 1, 4)).join('');
  }

  /** Local references only (`#`, `#/$defs/x`, `#/definitions/x`), as tool schemas use them. */
  #resolve(ref: string): unknown {
    if (!ref.startsWith('#')) return {};
    let node: unknown = this.#root;
    for (const raw of ref.slice(1).split('/').slice(1)) {
      const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = isRecord(node) ? node[part] : Array.isArray(node) ? node[Number(part)] : undefined;
    }
    return node ?? {};
  }

  #mergeAllOf(schema: Record<string, unknown>): Record<string, unknown> {
    const { allOf, ...merged } = schema;
    const parts = Array.isArray(allOf) ? allOf : [];
    const properties: Record<string, unknown> = isRecord(merged.properties) ? { ...merged.properties } : {};
    const required = new Set(Array.isArray(merged.required) ? merged.required : []);
    for (const raw of parts) {
      const part = isRecord(raw) && typeof raw.$ref === 'string' ? this.#resolve(raw.$ref) : raw;
      if (!isRecord(part)) continue;
      for (const [key, value] of Object.entries(part)) {
        if (key === 'properties' && isRecord(value)) Object.assign(properties, value);
        else if (key === 'required' && Array.isArray(value)) for (const name of value) required.add(name);
        else if (!(key in merged)) merged[key] = value;
      }
    }
    return { ...merged, properties, required: [...required] };
  }
}

function typeOf(schema: Record<string, unknown>): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    const first = type.find((t) => t !== 'null') ?? type[0];
    if (typeof first === 'string') return first;
  }
  if ('properties' in schema || 'required' in schema || 'additionalProperties' in schema) return 'object';
  if ('items' in schema || 'prefixItems' in schema) return 'array';
  if ('minimum' in schema || 'maximum' in schema || 'multipleOf' in schema) return 'number';
  return 'string';
}

function integerIn(schema: Record<string, unknown>): number {
  const min = finite(schema.minimum);
  const max = finite(schema.maximum);
  const exMin = finite(schema.exclusiveMinimum);
  const exMax = finite(schema.exclusiveMaximum);
  const lo = Math.max(min === null ? -Infinity : Math.ceil(min), exMin === null ? -Infinity : Math.floor(exMin) + 1);
  const hi = Math.min(max === null ? Infinity : Math.floor(max), exMax === null ? Infinity : Math.ceil(exMax) - 1);
  let value = Math.min(Math.max(1, lo), hi);
  const step = finite(schema.multipleOf);
  if (step !== null && step > 0 && Number.isInteger(step)) {
    value = Math.ceil(value / step) * step;
    if (value > hi) value -= step;
  }
  return value;
}

function numberIn(schema: Record<string, unknown>): number {
  const exMin = finite(schema.exclusiveMinimum);
  const exMax = finite(schema.exclusiveMaximum);
  const lo = Math.max(finite(schema.minimum) ?? -Infinity, exMin ?? -Infinity);
  const hi = Math.min(finite(schema.maximum) ?? Infinity, exMax ?? Infinity);
  let value = Math.min(Math.max(1, lo), hi);
  // An exclusive bound was hit: step inside the range, half-way when it is bounded on both sides.
  if (value === exMin) value = Number.isFinite(hi) ? (lo + hi) / 2 : value + 1;
  else if (value === exMax) value = Number.isFinite(lo) ? (lo + hi) / 2 : value - 1;
  const step = finite(schema.multipleOf);
  if (step !== null && step > 0) {
    value = Math.ceil(value / step) * step;
    if (value > hi) value -= step;
  }
  return value;
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function nonNegativeInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}
