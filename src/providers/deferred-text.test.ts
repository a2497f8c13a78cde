import { describe, expect, it } from 'vitest';
import { DeferredText, MAX_DEFERRED_CHARS, streamTapResult } from './deferred-text.js';

/** A DeferredText whose kept data is the text itself, counting how often it is worked out. */
function counting(): { text: DeferredText; parsed: string[] } {
  const parsed: string[] = [];
  const text = new DeferredText((data) => {
    parsed.push(data);
    return data.toUpperCase();
  });
  return { text, parsed };
}

describe('DeferredText', () => {
  it('works kept data out only when read, in stream order with appended text', () => {
    const { text, parsed } = counting();
    text.defer('a');
    text.defer('b');
    expect(parsed).toEqual([]);
    text.append('-');
    text.defer('c');
    expect(text.read()).toBe('AB-C');
    expect(text.read()).toBe('AB-C');
    expect(parsed).toEqual(['a', 'b', 'c']);
  });

  it('an empty append does not force the kept data', () => {
    const { text, parsed } = counting();
    text.defer('a');
    text.append('');
    expect(parsed).toEqual([]);
  });

  it('keeps a bounded amount of data: past the limit it is worked out as it comes', () => {
    const { text, parsed } = counting();
    const piece = 'x'.repeat(1000);
    let kept = 0;
    while (parsed.length === 0) {
      text.defer(piece);
      kept += piece.length;
      expect(kept).toBeLessThanOrEqual(MAX_DEFERRED_CHARS + piece.length);
    }
    const worked = parsed.length;
    expect(worked).toBe(kept / piece.length);
    text.defer('y');
    expect(parsed.length).toBe(worked);
    expect(text.read()).toBe('X'.repeat(kept) + 'Y');
  });

  it('a snapshot keeps the text as it was, even if the stream goes on', () => {
    const { text } = counting();
    text.defer('a');
    const first = text.snapshot();
    text.defer('b');
    text.append('c');
    const second = text.snapshot();
    text.defer('d');
    expect(first()).toBe('A');
    expect(second()).toBe('ABc');
    expect(text.read()).toBe('ABcD');
    const empty = new DeferredText(() => 'never');
    const none = empty.snapshot();
    empty.append('late');
    expect(none()).toBe('');
  });

  it('a snapshot read with nothing new settles in place, once', () => {
    const { text, parsed } = counting();
    text.defer('a');
    const snapshot = text.snapshot();
    expect(snapshot()).toBe('A');
    expect(snapshot()).toBe('A');
    expect(text.read()).toBe('A');
    expect(parsed).toEqual(['a']);
  });
});

describe('streamTapResult', () => {
  it('looks like a plain five-field record: spread, keys, JSON and equality see outputText', () => {
    let reads = 0;
    const result = streamTapResult({ usage: null, servedModel: 'm', completed: true, streamError: null }, () => {
      reads++;
      return 'text';
    });
    expect(reads).toBe(0);
    const plain = { usage: null, servedModel: 'm', outputText: 'text', completed: true, streamError: null };
    expect(result).toEqual(plain);
    expect({ ...result }).toEqual(plain);
    expect(Object.keys(result).sort()).toEqual(Object.keys(plain).sort());
    expect(JSON.parse(JSON.stringify(result))).toEqual(plain);
    result.outputText = 'replaced';
    expect(result.outputText).toBe('replaced');
  });
});
