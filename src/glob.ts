/**
 * The one glob of pertoken, used for routes (`routes[].match`), key model lists (`keys[].models`),
 * price overrides (`prices[].model`), output ceilings and every CLI model filter.
 *
 * Rule: anchored; `*` matches any run of characters (none included), `?` exactly one; everything
 * else is literal; matching is case-insensitive. Providers publish model ids in lower case and
 * treat them as names, not as case-bearing strings, so `GPT-4o*` in a config meaning anything but
 * `gpt-4o*` would only ever be a typo. Case-insensitivity cannot widen a key's grant: an upstream
 * that is case-sensitive rejects a mis-cased model, one that is not serves the model the key allows.
 */
const cache = new Map<string, RegExp>();
const CACHE_LIMIT = 10_000;

/** The glob as an anchored, case-insensitive RegExp, compiled once per pattern. */
export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (re === undefined) {
    const body = glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 'is');
    if (cache.size < CACHE_LIMIT) cache.set(glob, re);
  }
  return re;
}

export function globMatch(glob: string, value: string): boolean {
  return globToRegExp(glob).test(value);
}

/** Whether a pattern holds a wildcard, i.e. is a glob rather than a plain name. */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/**
 * Dated snapshot suffixes providers append to a model family: OpenAI `gpt-4o-2024-08-06`,
 * Anthropic `claude-3-5-haiku-20241022`, Vertex `claude-3-5-haiku@20241022`, and `-latest`.
 */
const SNAPSHOT_SUFFIX = /^(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8})|-latest)$/i;

/**
 * Model filters over recorded models (`reprice --model`, report filters): a glob matches under the
 * rule above; a plain name matches that model and its dated snapshots, because the ledger stores
 * the served model (`gpt-4o-2024-08-06`) while people name the family (`gpt-4o`). A plain name
 * never matches a sibling family: `gpt-4o` does not match `gpt-4o-mini`.
 */
export function modelFamilyMatch(pattern: string, model: string): boolean {
  if (isGlob(pattern)) return globMatch(pattern, model);
  if (model.length < pattern.length || model.slice(0, pattern.length).toLowerCase() !== pattern.toLowerCase())
    return false;
  const rest = model.slice(pattern.length);
  return rest === '' || SNAPSHOT_SUFFIX.test(rest);
}
