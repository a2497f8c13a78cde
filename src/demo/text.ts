import { intBetween, type Rng } from './random.js';

/**
 * Prompt token counting and output text generation. Counting is a deliberate cheap heuristic
 * (ceil(chars / 4) per text segment) so that a test can predict it; output is lorem-like words,
 * one word per token, so output_tokens always equals the number of words generated.
 */

/** Tokens of one text segment: ceil(chars / 4); an empty segment costs nothing. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * All text a prompt value carries, in order: strings, `text` fields of content parts, nested
 * `content` (tool results), and tool inputs/arguments as JSON. Images, audio and files add nothing.
 */
export function collectText(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectText(item, out);
  } else if (isRecord(value)) {
    if (typeof value.text === 'string') out.push(value.text);
    if (value.content !== undefined) collectText(value.content, out);
    if (value.input !== undefined && value.type === 'tool_use') out.push(JSON.stringify(value.input));
    if (typeof value.arguments === 'string') out.push(value.arguments);
    if (Array.isArray(value.tool_calls)) {
      for (const call of value.tool_calls) {
        if (!isRecord(call) || !isRecord(call.function)) continue;
        if (typeof call.function.name === 'string') out.push(call.function.name);
        collectText(call.function, out);
      }
    }
  }
  return out;
}

/** Token count of everything {@link collectText} finds, segment by segment. */
export function countValueTokens(value: unknown): number {
  let total = 0;
  for (const segment of collectText(value)) total += countTokens(segment);
  return total;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const WORDS = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore ' +
  'et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ' +
  'ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum eu fugiat ' +
  'nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt ' +
  'mollit anim id est laborum'
).split(' ');

/**
 * `count` tokens of lorem text, each token one word with its leading space, so that concatenating
 * any prefix of the array reads naturally. Sentences end every 6 to 14 words.
 */
export function generateTokens(rng: Rng, count: number): string[] {
  const tokens: string[] = [];
  let sentenceLeft = intBetween(rng, 6, 14);
  let capitalize = true;
  for (let i = 0; i < count; i++) {
    let word = WORDS[Math.floor(rng() * WORDS.length)] ?? 'lorem';
    if (capitalize) word = word.charAt(0).toUpperCase() + word.slice(1);
    capitalize = false;
    sentenceLeft -= 1;
    if (sentenceLeft === 0 || i === count - 1) {
      word += '.';
      capitalize = true;
      sentenceLeft = intBetween(rng, 6, 14);
    }
    tokens.push(i === 0 ? word : ` ${word}`);
  }
  return tokens;
}

/** Groups tokens into streamed chunks of `perChunk` tokens each (the last may be shorter). */
export function chunkTokens(tokens: readonly string[], perChunk: number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < tokens.length; i += perChunk) chunks.push(tokens.slice(i, i + perChunk).join(''));
  return chunks;
}
