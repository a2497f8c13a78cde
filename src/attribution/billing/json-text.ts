/**
 * JSON with exact numbers (trap T5): OpenAI sends dollars as JSON numbers, and `JSON.parse` turns
 * `7.255` into the nearest double before anyone can read its digits. Node 20's JSON.parse reviver
 * gets no source text (that `context.source` argument came later), so this small parser keeps
 * every number as the literal text of the file (`JsonNumber`), which money.ts then reads exactly.
 * Strings go through JSON.parse itself, so escapes mean exactly what they mean to JSON.
 */
import { invalidInput } from '../../errors.js';

export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const MAX_DEPTH = 256;

/** Parses `text`; a syntax error names `param` and the line and column. */
export function parseJsonText(text: string, param: string): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    const column = i - before.lastIndexOf('\n');
    throw invalidInput(param, `invalid JSON at line ${line}, column ${column}: ${what}`);
  };
  const skip = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: JsonObject = {};
      skip();
      if (text[i] === '}') return (i++, out);
      for (;;) {
        skip();
        if (text[i] !== '"') fail('expected a property name');
        const key = string();
        skip();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        out[key] = value(depth + 1);
        skip();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return (i++, out);
        else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const out: JsonValue[] = [];
      skip();
      if (text[i] === ']') return (i++, out);
      for (;;) {
        out.push(value(depth + 1));
        skip();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return (i++, out);
        else fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) return ((i += word.length), v);
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) return fail(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
    i += m[0].length;
    return new JsonNumber(m[0]);
  };
  const string = (): string => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (m === null) return fail('invalid string');
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const out = value(0);
  skip();
  if (i < text.length) fail('unexpected text after the value');
  return out;
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !(value instanceof JsonNumber) && !Array.isArray(value);
}
