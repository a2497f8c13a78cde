import { describe, expect, it } from 'vitest';
import { countByRatio, countTokens, estimateUsage, NON_TEXT_LOWER_BOUND_ISSUE, tokenCountingFor } from './index.js';

describe('tokenCountingFor', () => {
  it.each([
    ['gpt-4o', 'o200k_base'],
    ['gpt-4o-mini-2024-07-18', 'o200k_base'],
    ['gpt-4.1-nano', 'o200k_base'],
    ['gpt-5', 'o200k_base'],
    ['o1-mini', 'o200k_base'],
    ['o3', 'o200k_base'],
    ['o4-mini-2025-04-16', 'o200k_base'],
    ['chatgpt-4o-latest', 'o200k_base'],
    ['ft:gpt-4o-mini-2024-07-18:acme::abc123', 'o200k_base'],
    ['openai/gpt-4o', 'o200k_base'],
    ['gpt-3.5-turbo', 'cl100k_base'],
    ['gpt-3.5-turbo-instruct', 'cl100k_base'],
    ['gpt-4', 'cl100k_base'],
    ['gpt-4-turbo-2024-04-09', 'cl100k_base'],
    ['text-embedding-3-small', 'cl100k_base'],
    ['text-embedding-ada-002', 'cl100k_base'],
  ])('%s uses %s', (model, encoding) => {
    expect(tokenCountingFor(model)).toEqual({ kind: 'bpe', encoding });
  });

  it.each([
    ['claude-sonnet-4-5-20250929', 'claude', 3.5],
    ['us.anthropic.claude-3-5-haiku-20241022-v1:0', 'claude', 3.5],
    ['gemini-2.5-pro', 'gemini', 4],
    ['deepseek-chat', 'deepseek', 3.3],
    ['meta-llama/Llama-3.1-8B-Instruct', 'llama', 4],
    ['llama-3.1-8b', 'llama', 4],
    ['Qwen/Qwen2.5-72B-Instruct', 'qwen', 4],
    ['mistral-large-latest', 'mistral', 3.5],
    ['mixtral-8x7b', 'mistral', 3.5],
    ['some-new-model', 'unknown', 3.5],
  ])('%s is counted by the %s ratio', (model, family, charsPerToken) => {
    expect(tokenCountingFor(model)).toEqual({ kind: 'ratio', family, charsPerToken });
  });
});

describe('countTokens', () => {
  // Numbers computed once with gpt-tokenizer 3.4.0 and pinned here.
  it.each([
    ['Hello, world!', 4, 4],
    ['The quick brown fox jumps over the lazy dog.', 10, 10],
    ['Привет, мир! 你好世界', 8, 13],
    ['antidisestablishmentarianism', 6, 6],
  ])('%j: o200k %i, cl100k %i', (text, o200k, cl100k) => {
    expect(countTokens(text, 'gpt-4o')).toBe(o200k);
    expect(countTokens(text, 'gpt-4')).toBe(cl100k);
  });

  it('treats special-token text as plain text instead of throwing', () => {
    const text = 'ignore <|endoftext|> and <|im_start|>system';
    expect(countTokens(text, 'gpt-4o')).toBe(16);
    expect(countTokens(text, 'gpt-3.5-turbo')).toBe(14);
    expect(countTokens('<|endofprompt|><|fim_prefix|>', 'o3')).toBeGreaterThan(2);
  });

  it('is 0 for empty text', () => {
    expect(countTokens('', 'gpt-4o')).toBe(0);
    expect(countTokens('', 'claude-3-5-haiku')).toBe(0);
  });

  it('counts ratio families by characters per token', () => {
    const text = 'The quick brown fox jumps over the lazy dog.'; // 44 ASCII characters
    expect(countTokens(text, 'claude-opus-4-1')).toBe(13); // 44 / 3.5 = 12.6
    expect(countTokens(text, 'gemini-2.0-flash')).toBe(11); // 44 / 4
    expect(countTokens(text, 'deepseek-reasoner')).toBe(14); // 44 / 3.3 = 13.3
    expect(countTokens(text, 'llama-3.3-70b')).toBe(11);
    expect(countTokens(text, 'mistral-small')).toBe(13);
    expect(countTokens('Hello, world!', 'claude-3-haiku')).toBe(4); // 13 / 3.5 = 3.7
  });

  it('counts non-ASCII and wide characters at their own rates', () => {
    // 4 ASCII / 3.5 + 9 Cyrillic / 2.5 + 4 CJK / 1 = 1.14 + 3.6 + 4 = 8.74
    expect(countByRatio('Привет, мир! 你好世界', 3.5)).toBe(9);
    expect(countByRatio('👍👍', 3.5)).toBe(2); // one token per code point, not per UTF-16 unit
  });
});

describe('estimateUsage', () => {
  it('counts prompt and output with the model encoding and marks the source', () => {
    const usage = estimateUsage({
      model: 'gpt-4o',
      promptText: 'The quick brown fox jumps over the lazy dog.',
      outputText: 'Hello, world!',
      hasNonTextInput: false,
    });
    expect(usage).toEqual({ buckets: { input: 10, output: 4 }, source: 'estimated', raw: null, issues: [] });
  });

  it('adds OpenAI chat framing per message plus reply priming, and exact overhead tokens', () => {
    const usage = estimateUsage({
      model: 'gpt-4o-mini',
      promptText: 'Hello, world!',
      outputText: '',
      hasNonTextInput: false,
      messageCount: 2,
      requestOverheadTokens: 7,
    });
    expect(usage.buckets).toEqual({ input: 4 + 2 * 3 + 3 + 7, output: 0 });
  });

  it('flags a prompt with images or audio as a lower bound', () => {
    const usage = estimateUsage({
      model: 'claude-sonnet-4',
      promptText: 'Hello, world!',
      outputText: 'Hi',
      hasNonTextInput: true,
    });
    expect(usage.buckets).toEqual({ input: 4, output: 1 });
    expect(usage.issues).toEqual([NON_TEXT_LOWER_BOUND_ISSUE]);
  });
});
