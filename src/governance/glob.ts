const cache = new Map<string, RegExp>();

/** Shell-style glob (`*`, `?`), anchored and case-sensitive, compiled once per pattern. */
export function globMatch(glob: string, value: string): boolean {
  let re = cache.get(glob);
  if (!re) {
    const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${escaped}$`);
    if (cache.size < 10_000) cache.set(glob, re);
  }
  return re.test(value);
}
