import { sanitizeBuckets } from './buckets.js';
import { BUCKETS, type Buckets, type Usage, type UsageSource } from './types.js';

/**
 * No single request bills ten million tokens in one bucket today (the largest context windows are
 * ~2M); a count above this is a unit mix-up or a corrupt record, worth a flag before it is priced.
 */
export const MAX_PLAUSIBLE_BUCKET = 10_000_000;

const KNOWN_BUCKETS: ReadonlySet<string> = new Set(BUCKETS);

/**
 * Consistency findings for a usage: bad bucket values, and containment rules of the provider's raw
 * usage object that a mapping relies on (cached ⊆ prompt, reasoning ⊆ completion, totals add up).
 * Findings are returned, never thrown: a strange usage is still recorded, with its evidence.
 */
export function checkUsage(buckets: Buckets, raw?: unknown): string[] {
  const issues: string[] = [];
  for (const [name, value] of Object.entries(buckets as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (!KNOWN_BUCKETS.has(name)) issues.push(`unknown bucket ${name}`);
    issues.push(...checkCount(name, value));
  }
  if (isRecord(raw)) issues.push(...checkRaw(raw));
  return issues;
}

/** A Usage whose buckets are safe to price, with the issues found on the way and the raw object. */
export function buildUsage(
  candidate: Buckets,
  options: { source: UsageSource; raw: unknown; issues?: readonly string[] },
): Usage {
  const issues = [...(options.issues ?? []), ...checkUsage(candidate, options.raw)];
  return { buckets: sanitizeBuckets(candidate), source: options.source, raw: options.raw, issues };
}

function checkCount(name: string, value: unknown): string[] {
  if (typeof value !== 'number') return [`${name} is not a number (${JSON.stringify(value)})`];
  if (Number.isNaN(value)) return [`${name} is NaN`];
  if (!Number.isFinite(value)) return [`${name} is not finite`];
  const issues: string[] = [];
  if (value < 0) issues.push(`${name} is negative (${value})`);
  if (!Number.isInteger(value)) issues.push(`${name} is not an integer (${value})`);
  if (value > Number.MAX_SAFE_INTEGER)
    issues.push(`${name} is beyond 2^53 - 1 (${value}): not an exact count, taken as 0`);
  else if (value > MAX_PLAUSIBLE_BUCKET)
    issues.push(`${name} is implausibly large (${value} > ${MAX_PLAUSIBLE_BUCKET})`);
  return issues;
}

/** Any of these marks an Anthropic usage object (one may carry only its cache fields). */
const ANTHROPIC_FIELDS = ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'];

function checkRaw(raw: Record<string, unknown>): string[] {
  if ('prompt_tokens' in raw || 'completion_tokens' in raw) return checkOpenAIChat(raw);
  if ('input_tokens_details' in raw || 'total_tokens' in raw) return checkOpenAIResponses(raw);
  if (ANTHROPIC_FIELDS.some((field) => field in raw)) return checkAnthropic(raw);
  return [];
}

/** Chat/Completions/Embeddings: prompt_tokens ⊇ cached + audio; completion_tokens ⊇ reasoning + audio. */
function checkOpenAIChat(raw: Record<string, unknown>): string[] {
  const issues = fieldTypes(raw, ['prompt_tokens', 'completion_tokens', 'total_tokens']);
  const prompt = numberOr0(raw['prompt_tokens']);
  const completion = numberOr0(raw['completion_tokens']);
  const pd = recordOrEmpty(raw['prompt_tokens_details']);
  const cd = recordOrEmpty(raw['completion_tokens_details']);
  issues.push(...fieldTypes(pd, ['cached_tokens', 'audio_tokens'], 'prompt_tokens_details.'));
  issues.push(
    ...fieldTypes(
      cd,
      ['reasoning_tokens', 'audio_tokens', 'accepted_prediction_tokens', 'rejected_prediction_tokens'],
      'completion_tokens_details.',
    ),
  );
  issues.push(...notAbove(pd, ['cached_tokens', 'audio_tokens'], 'prompt_tokens_details.', prompt, 'prompt_tokens'));
  issues.push(
    ...notAbove(
      cd,
      ['reasoning_tokens', 'audio_tokens'],
      'completion_tokens_details.',
      completion,
      'completion_tokens',
    ),
  );
  const rejected = numberOr0(cd['rejected_prediction_tokens']);
  if (rejected > completion) {
    issues.push(
      `completion_tokens_details.rejected_prediction_tokens (${rejected}) > completion_tokens (${completion})`,
    );
  }
  issues.push(...totalMatches(raw, prompt + completion, 'prompt_tokens + completion_tokens'));
  return issues;
}

/** Responses API: input_tokens ⊇ cached_tokens; output_tokens ⊇ reasoning_tokens. */
function checkOpenAIResponses(raw: Record<string, unknown>): string[] {
  const issues = fieldTypes(raw, ['input_tokens', 'output_tokens', 'total_tokens']);
  const input = numberOr0(raw['input_tokens']);
  const output = numberOr0(raw['output_tokens']);
  const id = recordOrEmpty(raw['input_tokens_details']);
  const od = recordOrEmpty(raw['output_tokens_details']);
  issues.push(...fieldTypes(id, ['cached_tokens'], 'input_tokens_details.'));
  issues.push(...fieldTypes(od, ['reasoning_tokens'], 'output_tokens_details.'));
  issues.push(...notAbove(id, ['cached_tokens'], 'input_tokens_details.', input, 'input_tokens'));
  issues.push(...notAbove(od, ['reasoning_tokens'], 'output_tokens_details.', output, 'output_tokens'));
  issues.push(...totalMatches(raw, input + output, 'input_tokens + output_tokens'));
  return issues;
}

/** Anthropic: cache fields are outside input_tokens, so only the TTL split and thinking ⊆ output apply. */
function checkAnthropic(raw: Record<string, unknown>): string[] {
  const issues = fieldTypes(raw, [
    'input_tokens',
    'output_tokens',
    'cache_read_input_tokens',
    'cache_creation_input_tokens',
  ]);
  const split = raw['cache_creation'];
  if (isRecord(split)) {
    const creation = numberOr0(raw['cache_creation_input_tokens']);
    const sum = numberOr0(split['ephemeral_5m_input_tokens']) + numberOr0(split['ephemeral_1h_input_tokens']);
    if (sum !== creation) {
      issues.push(`cache_creation 5m + 1h (${sum}) != cache_creation_input_tokens (${creation})`);
    }
  }
  const od = recordOrEmpty(raw['output_tokens_details']);
  issues.push(
    ...notAbove(od, ['thinking_tokens'], 'output_tokens_details.', numberOr0(raw['output_tokens']), 'output_tokens'),
  );
  return issues;
}

function fieldTypes(obj: Record<string, unknown>, fields: readonly string[], prefix = ''): string[] {
  const issues: string[] = [];
  for (const field of fields) {
    const value = obj[field];
    if (value !== undefined && value !== null && typeof value !== 'number') {
      issues.push(`${prefix}${field} is not a number (${JSON.stringify(value)})`);
    }
  }
  return issues;
}

/** Each listed part, and their sum, must not exceed the total that includes them. */
function notAbove(
  obj: Record<string, unknown>,
  fields: readonly string[],
  prefix: string,
  total: number,
  totalName: string,
): string[] {
  const issues: string[] = [];
  let sum = 0;
  let present = 0;
  for (const field of fields) {
    if (typeof obj[field] !== 'number') continue;
    const value = numberOr0(obj[field]);
    sum += value;
    present++;
    if (value > total) issues.push(`${prefix}${field} (${value}) > ${totalName} (${total})`);
  }
  if (issues.length === 0 && present > 1 && sum > total) {
    issues.push(`${fields.map((f) => prefix + f).join(' + ')} (${sum}) > ${totalName} (${total})`);
  }
  return issues;
}

function totalMatches(raw: Record<string, unknown>, expected: number, what: string): string[] {
  const total = raw['total_tokens'];
  if (typeof total !== 'number' || total === expected) return [];
  return [`total_tokens (${total}) != ${what} (${expected})`];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function recordOrEmpty(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function numberOr0(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
