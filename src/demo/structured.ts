import { invalidInput } from '../errors.js';
import type { Rng } from './random.js';
import { sampleValue } from './schema-value.js';
import { generateTokens, isRecord } from './text.js';

/**
 * What kind of answer a request asks for: plain text, a call of one of its tools, or a JSON
 * document. A request with tools gets a tool call unless tool_choice says none or, with automatic
 * choice, the conversation's last turn already is a tool result: a real model then usually
 * answers in words, and a demo that called the tool again would trap an agent loop forever.
 */
export type Answer =
  | { kind: 'text' }
  | {
      kind: 'tool';
      name: string;
      schema: unknown;
      /** tool_choice named this very tool (OpenAI Chat then finishes with `stop`). */
      named: boolean;
    }
  /** `schema` null: JSON mode without a schema (any object). */
  | { kind: 'json'; schema: unknown };

interface Tool {
  name: string;
  schema: unknown;
}

/** POST /v1/chat/completions: `tools`, `tool_choice`, `response_format`. */
export function chatAnswer(body: Record<string, unknown>, messages: readonly unknown[]): Answer {
  const tools = toolsOf(body.tools, (tool) =>
    tool.type === 'function' && isRecord(tool.function) && typeof tool.function.name === 'string'
      ? { name: tool.function.name, schema: tool.function.parameters ?? { type: 'object' } }
      : null,
  );
  const choice = body.tool_choice;
  const named =
    isRecord(choice) && choice.type === 'function' && isRecord(choice.function) ? choice.function.name : undefined;
  const last = messages.at(-1);
  const afterToolResult = isRecord(last) && (last.role === 'tool' || last.role === 'function');
  const allowed = allowedNames(choice, (t) => (isRecord(t.function) ? t.function.name : undefined));
  const call = pickTool(tools, choice, named, allowed, afterToolResult);
  if (call) return call;

  const format = body.response_format;
  if (isRecord(format) && format.type === 'json_schema') {
    return { kind: 'json', schema: isRecord(format.json_schema) ? (format.json_schema.schema ?? null) : null };
  }
  if (isRecord(format) && format.type === 'json_object') {
    // OpenAI's own guard: JSON mode without the word in the prompt can generate whitespace forever.
    if (!JSON.stringify(messages).toLowerCase().includes('json')) {
      throw invalidInput(
        'messages',
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
      );
    }
    return { kind: 'json', schema: null };
  }
  return { kind: 'text' };
}

/** POST /v1/responses: `tools`, `tool_choice`, `text.format`. */
export function responsesAnswer(body: Record<string, unknown>): Answer {
  const tools = toolsOf(body.tools, (tool) =>
    tool.type === 'function' && typeof tool.name === 'string'
      ? { name: tool.name, schema: tool.parameters ?? { type: 'object' } }
      : null,
  );
  const choice = body.tool_choice;
  const named = isRecord(choice) && choice.type === 'function' ? choice.name : undefined;
  const last = Array.isArray(body.input) ? body.input.at(-1) : undefined;
  const afterToolResult = isRecord(last) && last.type === 'function_call_output';
  const call = pickTool(
    tools,
    choice,
    named,
    allowedNames(choice, (t) => t.name),
    afterToolResult,
  );
  if (call) return call;

  const format = isRecord(body.text) ? body.text.format : undefined;
  if (isRecord(format) && format.type === 'json_schema') return { kind: 'json', schema: format.schema ?? null };
  if (isRecord(format) && format.type === 'json_object') return { kind: 'json', schema: null };
  return { kind: 'text' };
}

/** POST /v1/messages: `tools`, `tool_choice` (auto | any | tool | none), `output_config.format`. */
export function anthropicAnswer(body: Record<string, unknown>, thinking: boolean): Answer {
  // Server tools (web search, code execution…) carry a versioned `type` and are run by Anthropic.
  const tools = toolsOf(body.tools, (tool) =>
    (tool.type === undefined || tool.type === 'custom') && typeof tool.name === 'string'
      ? { name: tool.name, schema: tool.input_schema ?? { type: 'object' } }
      : null,
  );
  const choice = isRecord(body.tool_choice) ? body.tool_choice : { type: 'auto' };
  const forced = choice.type === 'any' || choice.type === 'tool';
  if (tools.length > 0 && forced && thinking) {
    throw invalidInput('tool_choice', 'Thinking may not be enabled when tool_choice forces tool use.');
  }
  if (tools.length > 0 && choice.type !== 'none') {
    if (choice.type === 'tool') {
      const tool = tools.find((t) => t.name === choice.name);
      if (!tool) {
        throw invalidInput('tool_choice', `tool_choice.name: tool '${String(choice.name)}' not found in tools`);
      }
      return { kind: 'tool', ...tool, named: true };
    }
    const first = tools[0];
    if (first && (forced || !endsWithToolResult(body.messages))) return { kind: 'tool', ...first, named: false };
  }
  const config = isRecord(body.output_config) ? body.output_config.format : undefined;
  // `output_format` is the beta spelling of the same thing, still sent by older SDKs.
  const format = config ?? body.output_format;
  if (isRecord(format) && format.type === 'json_schema') return { kind: 'json', schema: format.schema ?? null };
  return { kind: 'text' };
}

/** A structured answer's value and its text as output tokens (see {@link jsonTokens}). */
export interface StructuredOutput {
  value: unknown;
  tokens: string[];
}

export function structuredOutput(answer: Exclude<Answer, { kind: 'text' }>, rng: Rng): StructuredOutput {
  const value =
    answer.kind === 'json' && answer.schema === null
      ? { answer: generateTokens(rng, 12).join('') }
      : sampleValue(answer.schema, rng);
  return { value, tokens: jsonTokens(JSON.stringify(value)) };
}

/**
 * Compact JSON cut into 4-character tokens: the demo counts ceil(chars / 4) tokens per text, so the
 * output tokens of a tool call or JSON answer are what counting its text would give, and a stream
 * sends it in token-sized pieces that split strings and keys mid-way, as real deltas do.
 */
export function jsonTokens(text: string): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < text.length; i += 4) tokens.push(text.slice(i, i + 4));
  return tokens;
}

function toolsOf(value: unknown, read: (tool: Record<string, unknown>) => Tool | null): Tool[] {
  if (!Array.isArray(value)) return [];
  const tools: Tool[] = [];
  for (const tool of value) {
    const parsed = isRecord(tool) ? read(tool) : null;
    if (parsed) tools.push(parsed);
  }
  return tools;
}

/** The names an OpenAI `allowed_tools` choice permits, or null for any other choice. */
function allowedNames(
  choice: unknown,
  nameOf: (tool: Record<string, unknown>) => unknown,
): { names: Set<unknown>; required: boolean } | null {
  if (!isRecord(choice) || choice.type !== 'allowed_tools') return null;
  // Chat nests the list under `allowed_tools`; the Responses API puts `mode` and `tools` on the choice.
  const spec = isRecord(choice.allowed_tools) ? choice.allowed_tools : choice;
  const list = Array.isArray(spec.tools) ? spec.tools : [];
  return { names: new Set(list.map((t) => (isRecord(t) ? nameOf(t) : undefined))), required: spec.mode === 'required' };
}

/** OpenAI tool choice: none | auto | required | a named function | allowed_tools. */
function pickTool(
  tools: Tool[],
  choice: unknown,
  named: unknown,
  allowed: { names: Set<unknown>; required: boolean } | null,
  afterToolResult: boolean,
): Answer | null {
  if (tools.length === 0 || choice === 'none') return null;
  if (named !== undefined) {
    const tool = tools.find((t) => t.name === named);
    if (!tool) {
      throw invalidInput(
        'tool_choice',
        `Invalid value for 'tool_choice': tool choice function '${String(named)}' not found in 'tools' parameter.`,
      );
    }
    return { kind: 'tool', ...tool, named: true };
  }
  const candidates = allowed ? tools.filter((t) => allowed.names.has(t.name)) : tools;
  const required = choice === 'required' || allowed?.required === true;
  const first = candidates[0];
  if (!first || (afterToolResult && !required)) return null;
  return { kind: 'tool', ...first, named: false };
}

function endsWithToolResult(messages: unknown): boolean {
  const last = Array.isArray(messages) ? messages.at(-1) : undefined;
  if (!isRecord(last) || last.role !== 'user' || !Array.isArray(last.content)) return false;
  return last.content.some((block) => isRecord(block) && block.type === 'tool_result');
}
