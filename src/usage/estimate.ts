import { createRequire } from 'node:module';
import type { Usage } from './types.js';

/**
 * Token estimation for requests whose usage never arrived (client disconnect, upstream cut,
 * provider omission). OpenAI-family models are counted exactly with their BPE encoding; other
 * families with a character ratio, because their tokenizers are not available offline.
 */

export type BpeEncoding = 'o200k_base' | 'cl100k_base';

export type TokenCounting =
  { kind: 'bpe'; encoding: BpeEncoding } | { kind: 'ratio'; family: string; charsPerToken: number };

/**
 * Special tokens are plain text here: a prompt that quotes "<|endoftext|>" is tokenized by the
 * provider as ordinary characters, and gpt-tokenizer's default (disallow all) would throw on it.
 * An empty disallow set with nothing allowed encodes such text as ordinary characters.
 */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

type BpeCount = (text: string, options: typeof PLAIN_TEXT) => number;
const requireModule = createRequire(import.meta.url);
const bpeCounts = new Map<BpeEncoding, BpeCount>();

/**
 * The BPE tables are loaded on first use, not at import. Both hold ~29 MB of small heap objects
 * that every major GC must mark (a full GC took 18 ms with them, 2 ms without: those pauses were
 * the gateway's p99 stalls, all streams in flight waiting at once) and take ~0.25 s to build, while
 * most calls report their usage and never need them. Loaded synchronously (the CommonJS build),
 * so counting stays a plain function.
 */
function bpeCount(encoding: BpeEncoding): BpeCount {
  let count = bpeCounts.get(encoding);
  if (count === undefined) {
    count = (requireModule(`gpt-tokenizer/cjs/encoding/${encoding}`) as { countTokens: BpeCount }).countTokens;
    bpeCounts.set(encoding, count);
  }
  return count;
}

/** Which BPE encodings have been loaded so far (they load on the first count that needs them). */
export function loadedEncodings(): BpeEncoding[] {
  return [...bpeCounts.keys()];
}

/**
 * Characters per token for English/code text (ASCII), by family. Sources and calibration:
 * - claude 3.5: Anthropic's documentation ("a token approximately represents 3.5 English
 *   characters"); Claude 3+ tokenizers yield more tokens than cl100k for the same text.
 * - gemini/gemma 4.0: Google AI docs ("a token is equivalent to about 4 characters").
 * - deepseek 3.3: DeepSeek API docs ("1 English character ≈ 0.3 token").
 * - llama/qwen 4.0: both vocabularies start from tiktoken cl100k_base (Llama 3: 100k + 28k tokens;
 *   Qwen technical report: "cl100k base as the starting point"). Measured with cl100k here:
 *   English prose 5.1, TypeScript 3.7, JSON 4.1 chars/token; 4.0 is the blended, slightly
 *   conservative figure (OpenAI's own rule of thumb is also ~4).
 * - mistral/mixtral/codestral 3.5: the 32k SentencePiece vocabulary of most Mistral models packs
 *   fewer characters per token than cl100k; newer Tekken models are denser, so this over-estimates.
 * - anything else 3.5: unknown tokenizer, err towards over-estimating (a budget should not be
 *   undercut by an estimate).
 */
const RATIO_FAMILIES: ReadonlyArray<{ family: string; pattern: RegExp; charsPerToken: number }> = [
  { family: 'claude', pattern: /(^|\.)claude/, charsPerToken: 3.5 },
  { family: 'gemini', pattern: /^(gemini|gemma)/, charsPerToken: 4.0 },
  { family: 'deepseek', pattern: /^deepseek/, charsPerToken: 3.3 },
  { family: 'llama', pattern: /^(meta[-.])?llama/, charsPerToken: 4.0 },
  { family: 'qwen', pattern: /^(qwen|qwq)/, charsPerToken: 4.0 },
  {
    family: 'mistral',
    pattern: /^(mistral|mixtral|codestral|ministral|magistral|pixtral|devstral)/,
    charsPerToken: 3.5,
  },
];
const DEFAULT_RATIO = { family: 'unknown', charsPerToken: 3.5 } as const;

/**
 * Non-ASCII text packs far fewer characters per token. Measured with cl100k_base: Cyrillic 2.45
 * chars/token, Chinese and Japanese ~1 char/token; used for every ratio family.
 */
const NON_ASCII_CHARS_PER_TOKEN = 2.5;
const WIDE_CHARS_PER_TOKEN = 1;
/** CJK radicals onward (kana, hangul, ideographs), and astral characters such as emoji. */
const WIDE_FROM = 0x2e80;

/** OpenAI's chat format: every message costs ~3 tokens of framing, and the reply is primed with 3. */
export const CHAT_TOKENS_PER_MESSAGE = 3;
export const CHAT_REPLY_PRIMING_TOKENS = 3;

const O200K =
  /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|chatgpt-|gpt-oss|codex-|computer-use|gpt-realtime|gpt-audio|gpt-image|omni-moderation)/;
const CL100K = /^(gpt-3\.5|gpt-4|gpt-35|text-embedding-3|text-embedding-ada|ada|babbage-002|davinci-002)/;

/** How tokens of `model` are counted. Provider prefixes ("openai/", "ft:") are ignored. */
export function tokenCountingFor(model: string): TokenCounting {
  const name = baseModelName(model);
  if (O200K.test(name)) return { kind: 'bpe', encoding: 'o200k_base' };
  if (CL100K.test(name)) return { kind: 'bpe', encoding: 'cl100k_base' };
  const ratio = RATIO_FAMILIES.find((f) => f.pattern.test(name)) ?? DEFAULT_RATIO;
  return { kind: 'ratio', family: ratio.family, charsPerToken: ratio.charsPerToken };
}

/** Tokens of `text` for `model`: exact for OpenAI encodings, a ratio estimate otherwise. Never throws. */
export function countTokens(text: string, model: string): number {
  if (text.length === 0) return 0;
  const counting = tokenCountingFor(model);
  if (counting.kind === 'bpe') {
    return bpeCount(counting.encoding)(text, PLAIN_TEXT);
  }
  return countByRatio(text, counting.charsPerToken);
}

/** Character-class ratio count; code points, so an emoji counts once. */
export function countByRatio(text: string, charsPerToken: number): number {
  let ascii = 0;
  let nonAscii = 0;
  let wide = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) ascii++;
    else if (code >= 0xd800 && code <= 0xdbff) {
      wide++;
      i++; // the low surrogate belongs to the same code point
    } else if (code >= WIDE_FROM) wide++;
    else nonAscii++;
  }
  return Math.ceil(ascii / charsPerToken + nonAscii / NON_ASCII_CHARS_PER_TOKEN + wide / WIDE_CHARS_PER_TOKEN);
}

export interface EstimateInput {
  model: string;
  promptText: string;
  outputText: string;
  /** Images, audio or files in the prompt: their tokens are unknown, so the input is a lower bound. */
  hasNonTextInput: boolean;
  /** Chat messages in the prompt, for the per-message framing overhead; omit for plain prompts. */
  messageCount?: number;
  /** Tokens known exactly without text (e.g. token-id prompts), added to the input as is. */
  requestOverheadTokens?: number;
}

export const NON_TEXT_LOWER_BOUND_ISSUE =
  'estimated: prompt contained non-text parts (image/audio/file); input is a lower bound';

/** A Usage counted from the texts, marked `estimated` (never a silent zero, DESIGN §4). */
export function estimateUsage(input: EstimateInput): Usage {
  const messages = Math.max(0, Math.floor(input.messageCount ?? 0));
  const framing = messages > 0 ? messages * CHAT_TOKENS_PER_MESSAGE + CHAT_REPLY_PRIMING_TOKENS : 0;
  const overhead = Math.max(0, Math.floor(input.requestOverheadTokens ?? 0));
  const inputTokens = countTokens(input.promptText, input.model) + framing + overhead;
  const outputTokens = countTokens(input.outputText, input.model);
  return {
    buckets: { input: inputTokens, output: outputTokens },
    source: 'estimated',
    raw: null,
    issues: input.hasNonTextInput ? [NON_TEXT_LOWER_BOUND_ISSUE] : [],
  };
}

function baseModelName(model: string): string {
  let name = model.trim().toLowerCase();
  if (name.startsWith('ft:')) name = name.slice(3); // fine-tunes: ft:gpt-4o-mini-2024-07-18:org::id
  const slash = name.lastIndexOf('/');
  if (slash >= 0) name = name.slice(slash + 1); // openai/gpt-4o, meta-llama/Llama-3.1-8B
  return name;
}
