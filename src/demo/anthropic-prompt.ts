import { invalidInput } from '../errors.js';
import { PrefixHasher, type PromptCache } from './prompt-cache.js';
import { collectText, countTokens, isRecord } from './text.js';

/**
 * Anthropic prompt accounting. The prompt is read in cache order (tools, system, messages), one
 * segment per block. Caching happens only at explicit `cache_control` breakpoints (at most 4): the
 * first request with a prefix writes it (cache_creation, split by TTL), a later one within the TTL
 * reads it. Like the real cache, a breakpoint also finds a prefix written at any of the 20 blocks
 * before it, so moving a breakpoint forward reads the old prefix and writes only the new part.
 * Anthropic's minimum cacheable length (1024+ tokens) is deliberately not applied, so that small
 * test prompts cache.
 */
export interface AnthropicPrompt {
  /** All input tokens, as count_tokens reports them. */
  totalTokens: number;
  /** Block ends up to the last breakpoint, in order. */
  blocks: PromptBlock[];
  /** Prompt text, for seeding the generator. */
  text: string;
}

export interface PromptBlock {
  /** Tokens of the prompt up to and including this block. */
  tokens: number;
  /** The cache key of that prefix (model included: caches are per model). */
  key: string;
  breakpoint: Ttl | null;
  /** Within 20 blocks before some breakpoint: where a cache read may start. */
  lookback: boolean;
}

type Ttl = '5m' | '1h';

const MAX_BREAKPOINTS = 4;
const LOOKBACK_BLOCKS = 20;
const TTL_MS: Record<Ttl, number> = { '5m': 300_000, '1h': 3_600_000 };

interface Segment {
  text: string;
  breakpoint: Ttl | null;
}

export function readAnthropicPrompt(body: Record<string, unknown>, servedModel: string): AnthropicPrompt {
  const segments: Segment[] = [];
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools)
      segments.push({ text: JSON.stringify(stripCacheControl(tool)), breakpoint: ttlOf(tool) });
  }
  pushBlocks(segments, body.system);
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) if (isRecord(message)) pushBlocks(segments, message.content);
  }
  const breakpoints = segments.filter((s) => s.breakpoint !== null).length;
  if (breakpoints > MAX_BREAKPOINTS) {
    throw invalidInput(
      'cache_control',
      `A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`,
    );
  }

  const lastBreakpoint = segments.findLastIndex((s) => s.breakpoint !== null);
  const hasher = new PrefixHasher(`anthropic\u0000${servedModel}`);
  const blocks: PromptBlock[] = [];
  let totalTokens = 0;
  segments.forEach((segment, i) => {
    totalTokens += countTokens(segment.text);
    if (i > lastBreakpoint) return;
    if (i > 0) hasher.update('\u0000');
    hasher.update(segment.text);
    blocks.push({ tokens: totalTokens, key: hasher.key(), breakpoint: segment.breakpoint, lookback: false });
  });
  blocks.forEach((block, i) => {
    if (block.breakpoint === null) return;
    for (let j = Math.max(0, i - LOOKBACK_BLOCKS); j <= i; j++) {
      const candidate = blocks[j];
      if (candidate) candidate.lookback = true;
    }
  });
  return { totalTokens, blocks, text: segments.map((s) => s.text).join('\n') };
}

/** Input usage as Anthropic reports it: `input_tokens` excludes cache reads and writes. */
export interface InputUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

/**
 * Reads the longest remembered prefix in the lookback windows, writes the rest up to the last
 * breakpoint (the part up to the last 1h breakpoint at the 1h rate), and remembers every
 * breakpoint's prefix, which also refreshes the TTL of the ones that were read.
 */
export function anthropicCacheUsage(prompt: AnthropicPrompt, cache: PromptCache): InputUsage {
  let read = 0;
  for (let i = prompt.blocks.length - 1; i >= 0; i--) {
    const block = prompt.blocks[i];
    if (block?.lookback && cache.has(block.key)) {
      read = block.tokens;
      break;
    }
  }
  const cachedEnd = prompt.blocks.at(-1)?.tokens ?? 0;
  let end1h = 0;
  for (const block of prompt.blocks) {
    if (block.breakpoint === null) continue;
    if (block.breakpoint === '1h') end1h = block.tokens;
    cache.remember(block.key, TTL_MS[block.breakpoint]);
  }
  const written = cachedEnd - read;
  const written1h = Math.max(0, end1h - read);
  return {
    input_tokens: prompt.totalTokens - cachedEnd,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: read,
    cache_creation: { ephemeral_5m_input_tokens: written - written1h, ephemeral_1h_input_tokens: written1h },
  };
}

function pushBlocks(segments: Segment[], content: unknown): void {
  if (typeof content === 'string') {
    segments.push({ text: content, breakpoint: null });
    return;
  }
  if (!Array.isArray(content)) return;
  for (const block of content) {
    segments.push({ text: collectText(block).join(''), breakpoint: ttlOf(block) });
  }
}

function ttlOf(block: unknown): Ttl | null {
  if (!isRecord(block) || !isRecord(block.cache_control)) return null;
  return block.cache_control.ttl === '1h' ? '1h' : '5m';
}

function stripCacheControl(tool: unknown): unknown {
  if (!isRecord(tool)) return tool;
  const { cache_control: _ignored, ...rest } = tool;
  return rest;
}
