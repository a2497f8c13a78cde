import { hashString } from './random.js';
import { collectText, countTokens, isRecord } from './text.js';

/**
 * Anthropic prompt accounting: the prompt is read in cache order (tools, system, messages) and
 * split at the last `cache_control` breakpoint. The part up to it is the cacheable prefix; the
 * first request with a prefix writes it (cache_creation, split by TTL), later ones read it.
 * Anthropic's minimum cacheable length is deliberately not applied, so small test prompts cache.
 */
export interface AnthropicPrompt {
  /** All input tokens, as count_tokens reports them. */
  totalTokens: number;
  /** Tokens up to the last breakpoint, and of those, the ones up to the last 1h breakpoint. */
  prefixTokens: number;
  prefix1hTokens: number;
  /** Identifies the cached prefix (model + prefix text); null when there is no breakpoint. */
  prefixKey: string | null;
  prefixTtl: '5m' | '1h';
  /** Prompt text, for seeding the generator. */
  text: string;
}

interface Segment {
  text: string;
  breakpoint: '5m' | '1h' | null;
}

export function readAnthropicPrompt(body: Record<string, unknown>, model: string): AnthropicPrompt {
  const segments: Segment[] = [];
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools)
      segments.push({ text: JSON.stringify(stripCacheControl(tool)), breakpoint: ttlOf(tool) });
  }
  pushBlocks(segments, body.system);
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) if (isRecord(message)) pushBlocks(segments, message.content);
  }

  let totalTokens = 0;
  let prefixTokens = 0;
  let prefix1hTokens = 0;
  let prefixEnd = -1;
  segments.forEach((segment, i) => {
    totalTokens += countTokens(segment.text);
    if (segment.breakpoint !== null) {
      prefixTokens = totalTokens;
      prefixEnd = i;
      if (segment.breakpoint === '1h') prefix1hTokens = totalTokens;
    }
  });
  const prefixText = segments
    .slice(0, prefixEnd + 1)
    .map((s) => s.text)
    .join('\u0000');
  return {
    totalTokens,
    prefixTokens,
    prefix1hTokens,
    prefixKey: prefixEnd < 0 ? null : `${model}:${hashString(prefixText)}:${prefixText.length}`,
    prefixTtl: segments[prefixEnd]?.breakpoint ?? '5m',
    text: segments.map((s) => s.text).join('\n'),
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

function ttlOf(block: unknown): '5m' | '1h' | null {
  if (!isRecord(block) || !isRecord(block.cache_control)) return null;
  return block.cache_control.ttl === '1h' ? '1h' : '5m';
}

function stripCacheControl(tool: unknown): unknown {
  if (!isRecord(tool)) return tool;
  const { cache_control: _ignored, ...rest } = tool;
  return rest;
}

/** The server's memory of written prefixes, expiring by their TTL like Anthropic's cache. */
export class PromptCache {
  private readonly entries = new Map<string, number>();
  private static readonly MAX_ENTRIES = 10_000;

  /** True on a hit (and refreshes the entry); on a miss records the prefix as written. */
  touch(key: string, ttl: '5m' | '1h', now = Date.now()): boolean {
    const expires = this.entries.get(key);
    const hit = expires !== undefined && expires > now;
    this.entries.delete(key);
    if (this.entries.size >= PromptCache.MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, now + (ttl === '1h' ? 3_600_000 : 300_000));
    return hit;
  }
}
