import { invalidInput } from '../errors.js';
import { isRecord, type JsonObject, type TextCollector } from './shape.js';
import type { PreparedRequest } from './types.js';

/** Request validation shared by the adapters: only what metering relies on, the rest is upstream's. */

/**
 * Deepest nesting of arrays and objects a request body may have (the body itself is level 1). Real
 * requests stay far below it (a tool's JSON schema nests a few dozen levels); a body nested
 * thousands deep overflowed the stack of every recursive reader after it (JSON.stringify of
 * `tools`, the walk of nested tool_result blocks) and answered 500.
 */
export const MAX_BODY_DEPTH = 256;

export function requireObjectBody(body: unknown): JsonObject {
  if (!isRecord(body)) throw invalidInput('body', 'request body must be a JSON object');
  for (const [field, value] of Object.entries(body)) requireShallow(field, value);
  return body;
}

/** Refuses a field nested past MAX_BODY_DEPTH, naming it; iterative, so the check cannot overflow. */
function requireShallow(field: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const stack: Array<[node: object, depth: number]> = [[value, 2]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [node, depth] = next;
    if (depth > MAX_BODY_DEPTH) {
      throw invalidInput(field, `\`${field}\` is nested deeper than ${MAX_BODY_DEPTH} levels`);
    }
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child as object, depth + 1]);
    }
  }
}

export function requireModel(body: JsonObject): string {
  const model = body['model'];
  if (typeof model !== 'string' || model.trim().length === 0) {
    throw invalidInput('model', '`model` is required and must be a non-empty string');
  }
  return model;
}

export function optionalStream(body: JsonObject): boolean {
  const stream = body['stream'];
  if (stream === undefined || stream === null) return false;
  if (typeof stream !== 'boolean') throw invalidInput('stream', '`stream` must be a boolean');
  return stream;
}

export function optionalPositiveInt(body: JsonObject, param: string): number | null {
  const value = body[param];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalidInput(param, `\`${param}\` must be a positive integer`);
  }
  return value;
}

/** A non-empty array of objects (chat `messages`, Anthropic `messages`). */
export function requireMessages(body: JsonObject, param = 'messages'): JsonObject[] {
  const messages = body[param];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalidInput(param, `\`${param}\` is required and must be a non-empty array`);
  }
  messages.forEach((message, index) => {
    if (!isRecord(message)) throw invalidInput(`${param}[${index}]`, `\`${param}[${index}]\` must be an object`);
  });
  return messages as JsonObject[];
}

/** The bytes to send: the client's own when nothing changed, a re-serialization otherwise. */
export function bodyBytes(body: JsonObject, raw: Buffer | undefined, changed: boolean): Buffer {
  if (!changed && raw !== undefined) return raw;
  return Buffer.from(JSON.stringify(body));
}

export function prepared(
  fields: Omit<PreparedRequest, 'promptText' | 'hasNonTextInput'> & { text: TextCollector },
): PreparedRequest {
  const { text, ...rest } = fields;
  return { ...rest, promptText: text.text(), hasNonTextInput: text.nonText };
}
