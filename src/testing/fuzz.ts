import fc from 'fast-check';

/**
 * Settings shared by the `*.fuzz.test.ts` properties (fast-check).
 *
 * - `npm test` runs each property a small, fixed number of times (its `ciRuns`) from a fixed seed,
 *   so CI is deterministic and a red run replays exactly.
 * - `PERTOKEN_FUZZ_RUNS=N` (what `npm run test:fuzz` sets) runs every property N times from a
 *   fresh seed each run, to explore; fast-check prints the seed and counterexample path of a
 *   failure; `PERTOKEN_FUZZ_SEED=<seed> PERTOKEN_FUZZ_PATH=<path>` (with the same RUNS) replays it.
 */

/** The seed of `npm test` runs; any fixed value would do, this one is the number. */
export const CI_SEED = 17;

function envInteger(name: string): number | null {
  const text = process.env[name];
  if (text === undefined || text === '') return null;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

/** Options of a property's run count. */
export interface FuzzRunOptions {
  /**
   * Share of PERTOKEN_FUZZ_RUNS a costly property runs in a big run (default 1): one that opens a
   * ledger per case takes a quarter, so a big run stays minutes, not an hour.
   */
  bigShare?: number;
}

/** How many cases a property runs: `ciRuns` under `npm test`, PERTOKEN_FUZZ_RUNS (× bigShare) when set. */
export function fuzzRuns(ciRuns: number, options: FuzzRunOptions = {}): number {
  const runs = envInteger('PERTOKEN_FUZZ_RUNS');
  if (runs === null) return ciRuns;
  if (runs < 1) throw new Error('PERTOKEN_FUZZ_RUNS must be at least 1');
  return Math.max(1, Math.round(runs * (options.bigShare ?? 1)));
}

/** fast-check parameters for a property: run count, seed (fixed in CI) and replay path. */
export function fuzzParameters<T>(ciRuns: number, options: FuzzRunOptions = {}): fc.Parameters<T> {
  const seed = envInteger('PERTOKEN_FUZZ_SEED') ?? (envInteger('PERTOKEN_FUZZ_RUNS') === null ? CI_SEED : null);
  const path = process.env.PERTOKEN_FUZZ_PATH;
  return {
    numRuns: fuzzRuns(ciRuns, options),
    ...(seed === null ? {} : { seed }),
    ...(path ? { path } : {}),
    // The shrunk counterexample and the seed are what a report needs; the whole history is noise.
    verbose: 0,
  };
}

/**
 * A vitest timeout for a property of `ciRuns` cases that take up to `msPerRun` each: the usual
 * minute, stretched for big runs. It only stops a hung run; nothing asserts on time.
 */
export function fuzzTimeout(ciRuns: number, msPerRun: number, options: FuzzRunOptions = {}): number {
  return Math.max(60_000, fuzzRuns(ciRuns, options) * msPerRun * 4);
}

/** Ids of the shape pertoken accepts (`[A-Za-z0-9._:-]`, short). */
export const idArb = fc.stringMatching(/^[a-z][a-z0-9_.:-]{0,20}$/);

/** Text that fits in an HTTP header value (visible ASCII and spaces, no CR/LF/NUL). */
export const headerTextArb = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});

/** Numbers a provider or a client may send where a count belongs: sane, huge, negative, odd. */
export const countLikeArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 5_000 }) },
  { weight: 2, arbitrary: fc.nat() },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      0,
      -1,
      -0,
      0.5,
      1.5,
      2 ** 31,
      2 ** 53 - 1,
      2 ** 53,
      2 ** 53 + 2,
      1e15,
      1e20,
      1e300,
      Number.MAX_VALUE,
      -1e20,
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: -1_000_000, max: -1 }) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);

/** What may sit in a count field of a JSON usage object: a count-like number, or the wrong type. */
export const countFieldArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: countLikeArb },
  { weight: 1, arbitrary: fc.constantFrom(null, '12', true, [], {}) },
);

/** Whether `value` is a count the ledger can hold exactly: a non-negative safe integer. */
export function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0);
}

/** A path into a JSON document: object keys and array indexes. */
export type JsonPath = Array<string | number>;

/** Every path into a parsed document, the root included. */
export function pathsOf(value: unknown, path: JsonPath = []): JsonPath[] {
  const out: JsonPath[] = [path];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...path, i])));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...path, k]));
  }
  return out;
}

/**
 * A copy of `doc` with the value at `path` replaced, or removed when `value` is undefined. Keys
 * are set as own properties even for `__proto__`, as a JSON or YAML parser makes them.
 */
export function withAt(doc: unknown, path: JsonPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...JsonPath];
  if (Array.isArray(doc)) {
    const copy: unknown[] = [...doc];
    if (rest.length === 0 && value === undefined) copy.splice(Number(head), 1);
    else copy[Number(head)] = withAt(copy[Number(head)], rest, value);
    return copy;
  }
  const copy: Record<string, unknown> =
    doc !== null && typeof doc === 'object' ? { ...(doc as Record<string, unknown>) } : {};
  if (rest.length === 0 && value === undefined) delete copy[head];
  else {
    const next = withAt(copy[head], rest, value);
    Object.defineProperty(copy, head, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/**
 * `base` with 1..maxEdits of its parts (any path, the root included) replaced by `values` or
 * removed, and sometimes an unknown key added: the shape of most bad input, near the good one.
 */
export function mutantOf(base: unknown, values: fc.Arbitrary<unknown>, maxEdits = 3): fc.Arbitrary<unknown> {
  const paths = pathsOf(base);
  const edit = fc.record({
    path: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...paths) },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.constantFrom(...paths), fc.string({ maxLength: 12 })).map(([p, k]) => [...p, k]),
      },
    ),
    value: fc.oneof({ weight: 6, arbitrary: values }, { weight: 1, arbitrary: fc.constant(undefined) }),
  });
  return fc.array(edit, { minLength: 1, maxLength: maxEdits }).map((edits) => {
    let doc = base;
    for (const e of edits) doc = withAt(doc, e.path, e.value);
    return doc;
  });
}
