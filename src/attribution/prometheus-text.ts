/**
 * The Prometheus text exposition format (0.0.4, and the OpenMetrics lines serving engines emit),
 * read only as far as pool telemetry needs: `# TYPE` lines and samples with labels and a value
 * (NaN and ±Inf included; an optional timestamp is ignored). Anything else — HELP and other
 * comments, `# EOF`, exemplars' tails, malformed lines — is skipped and counted, never thrown:
 * one odd line from an engine must not blind the scraper to the rest.
 */
import { PertokenError } from '../errors.js';

/** The largest exposition read: a vLLM /metrics is some 100 KB; 4 MiB is already abuse. */
export const MAX_EXPOSITION_BYTES = 4 * 1024 * 1024;

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'info' | 'stateset' | 'unknown';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** NaN, +Infinity and -Infinity as written. */
  readonly value: number;
}

export interface Exposition {
  /** Samples by metric name (histogram series keep their `_sum` / `_count` / `_bucket` names). */
  readonly samples: ReadonlyMap<string, readonly Sample[]>;
  /** Declared types by metric family name. */
  readonly types: ReadonlyMap<string, MetricType>;
  /** Lines that were neither a sample, a TYPE line, a comment nor blank. */
  readonly skipped: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
/** Sticky: matched at `lastIndex`, so long label sets are read without slicing the line. */
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'info', 'stateset', 'unknown']);

export function parseExposition(text: string): Exposition {
  if (text.length > MAX_EXPOSITION_BYTES) {
    throw new PertokenError('upstream_error', `metrics exposition longer than ${MAX_EXPOSITION_BYTES} characters`);
  }
  const samples = new Map<string, Sample[]>();
  const types = new Map<string, MetricType>();
  let skipped = 0;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^#\s+TYPE\s+(\S+)\s+(\S+)\s*$/.exec(line);
      if (type && TYPES.has(type[2] ?? '')) types.set(type[1] ?? '', type[2] as MetricType);
      continue;
    }
    const sample = parseSample(line);
    if (sample === null) {
      skipped += 1;
      continue;
    }
    const list = samples.get(sample.name);
    if (list) list.push(sample);
    else samples.set(sample.name, [sample]);
  }
  return { samples, types, skipped };
}

/** `name{label="value",...} value [timestamp]`, or null when the line is not one. */
function parseSample(line: string): Sample | null {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) return null;
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at = parseLabels(line, at + 1, labels);
    if (at < 0) return null;
  }
  // The value, then an optional timestamp or OpenMetrics exemplar (`# {...} v`), both ignored.
  const rest = line.slice(at).trim().split(/\s+/);
  const value = rest[0] === undefined ? null : parseValue(rest[0]);
  if (value === null) return null;
  return { name, labels, value };
}

/** Reads `a="x",b="y"}` into `labels`; the index after `}`, or -1 when malformed. */
function parseLabels(line: string, start: number, labels: Record<string, string>): number {
  let at = start;
  for (;;) {
    at = skipBlanks(line, at);
    if (line[at] === '}') return at + 1;
    LABEL_NAME.lastIndex = at;
    const key = LABEL_NAME.exec(line)?.[0];
    if (key === undefined) return -1;
    at = skipBlanks(line, at + key.length);
    if (line[at] !== '=') return -1;
    at = skipBlanks(line, at + 1);
    if (line[at] !== '"') return -1;
    at += 1;
    let value = '';
    for (;;) {
      const c = line[at];
      if (c === undefined) return -1;
      at += 1;
      if (c === '"') break;
      if (c === '\\') {
        const escaped = line[at];
        at += 1;
        if (escaped === 'n') value += '\n';
        else if (escaped === '\\' || escaped === '"') value += escaped;
        else return -1;
      } else value += c;
    }
    labels[key] = value;
    at = skipBlanks(line, at);
    if (line[at] === ',') at += 1;
    else if (line[at] !== '}') return -1;
  }
}

/** Blanks and tabs are allowed around label names, `=` and values, as Prometheus' own parser allows. */
function skipBlanks(line: string, from: number): number {
  let at = from;
  while (line[at] === ' ' || line[at] === '\t') at += 1;
  return at;
}

/** A Go-style float: decimal or exponent notation, NaN, +Inf, -Inf (Inf without a sign too). */
function parseValue(text: string): number | null {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  return Number(text);
}
