/**
 * Cheap questions about JSON text that has not been parsed, so a stream tap can skip JSON.parse
 * (~1 µs for an OpenAI chunk) for the many events that cannot change what it learns.
 *
 * An answer may be a false alarm, which only costs the parse it tried to save; it is never a miss.
 * Why a raw search cannot miss: in JSON text a string equal to `name` is spelled `"name"` unless one
 * of its characters is written as a `\u` escape (`hasEscapedNameChar`: every check below must be
 * paired with it), and a `"` inside a string is always escaped, so `"name"` only appears as a whole
 * string token (key or value) or as the tail of a longer one (`"…\"name"`): extra finds, never fewer.
 *
 * Regular expressions and searches that start with a letter: a search for `"name"` stops at every
 * `"` of the JSON (~200 ns per name on an OpenAI chunk); one pattern scans the text once for all.
 */

const WS = '[ \\t\\n\\r]*';

/**
 * Whether the text may spell a character of a name the taps look for (lowercase letters, `_`,
 * `.`) as a `\u` escape: `\u002e`, `\u005f`, `\u0060`-`\u007f`. Legal but odd: such text is
 * simply parsed. Go's `\u003c` (`<`) and the like, and escaped non-ASCII text, do not count.
 */
export function hasEscapedNameChar(text: string): boolean {
  for (let at = text.indexOf('\\u00'); at >= 0; at = text.indexOf('\\u00', at + 1)) {
    const high = text.charCodeAt(at + 4);
    const low = text.charCodeAt(at + 5) | 0x20; // ASCII lower case
    if (high === 0x36 || high === 0x37) return true; // \u006x, \u007x
    if ((high === 0x32 && low === 0x65) || (high === 0x35 && low === 0x66)) return true; // \u002e, \u005f
  }
  return false;
}

/** Finds any of the names as a string token. */
export function mentionPattern(names: readonly string[]): RegExp {
  return new RegExp(`"(?:${names.map(escapeRegExp).join('|')})"`);
}

/**
 * Finds a key among the names (at any depth) whose value is not `null`. A find not followed by a
 * colon is a string value, not a key, and does not match. The opening quote is left out (faster;
 * it only adds finds such as `"prompt_usage": {…}`).
 */
export function nonNullKeyPattern(names: readonly string[]): RegExp {
  return new RegExp(`(?:${names.map(escapeRegExp).join('|')})"${WS}:${WS}(?![ \\t\\n\\r]|null)`);
}

/**
 * Whether every key `name` (at any depth) has exactly the string value `expected`, spelled without
 * escapes; true when there is no such key, false for any such key when `expected` is null.
 */
export function keyIsAbsentOrString(text: string, name: string, expected: string | null): boolean {
  // Searched without its opening quote: a search starting with `"` stops at every key of the JSON.
  const tail = `${name}"`;
  for (let at = text.indexOf(tail); at >= 0; at = text.indexOf(tail, at + 1)) {
    if (text.charCodeAt(at - 1) !== 0x22) continue; // not the token `"name"`
    let value = skipWhitespace(text, at + tail.length);
    if (text.charCodeAt(value) !== 0x3a) continue; // not a key
    value = skipWhitespace(text, value + 1);
    if (expected === null || expected.includes('"') || expected.includes('\\')) return false;
    if (text.charCodeAt(value) !== 0x22 || !text.startsWith(expected, value + 1)) return false;
    if (text.charCodeAt(value + 1 + expected.length) !== 0x22) return false;
  }
  return true;
}

function skipWhitespace(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
