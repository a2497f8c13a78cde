import { describe, expect, it } from 'vitest';
import { countTokens, loadedEncodings } from './estimate.js';

/** Its own file (vitest isolates files): nothing else in this process has counted tokens yet. */
describe('BPE tables load on first use', () => {
  it('loads no encoding at import or for ratio families, and each one once when first needed', () => {
    expect(loadedEncodings()).toEqual([]);
    expect(countTokens('Hello there, how are you?', 'claude-sonnet-4-5')).toBeGreaterThan(0);
    expect(loadedEncodings()).toEqual([]);
    expect(countTokens('Hello there, how are you?', 'gpt-4o-mini')).toBe(7);
    expect(loadedEncodings()).toEqual(['o200k_base']);
    expect(countTokens('Hello there, how are you?', 'gpt-4')).toBe(7);
    expect(countTokens('<|endoftext|> is plain text here', 'gpt-4o')).toBeGreaterThan(5);
    expect(loadedEncodings()).toEqual(['o200k_base', 'cl100k_base']);
  });
});
