/**
 * Canonical usage: exclusive token buckets (DESIGN §4). Their sum is the total billed; no bucket
 * contains another. Provider mappings live in providers/, the arithmetic on buckets lives here.
 */
export const BUCKETS = [
  'input',
  'cache_read',
  'cache_write_5m',
  'cache_write_1h',
  'input_audio',
  'input_image',
  'output',
  'reasoning',
  'output_audio',
  'output_image',
  'requests',
  'web_search',
  'tool_calls',
] as const;

export type Bucket = (typeof BUCKETS)[number];

/** Token (or unit) counts per bucket; an absent bucket is zero. Counts are non-negative integers. */
export type Buckets = Partial<Record<Bucket, number>>;

/**
 * provider: read from the provider's usage object; estimated: counted with a tokenizer because
 * none arrived; reported: sent by a client through the event API or OTLP.
 */
export type UsageSource = 'provider' | 'estimated' | 'reported';

export interface Usage {
  buckets: Buckets;
  source: UsageSource;
  /** The provider's usage object as it arrived, kept beside the canonical buckets. */
  raw: unknown;
  /** Consistency findings ("cached_tokens > prompt_tokens", ...); empty when the usage is sane. */
  issues: string[];
}

export const INPUT_BUCKETS: readonly Bucket[] = [
  'input',
  'cache_read',
  'cache_write_5m',
  'cache_write_1h',
  'input_audio',
  'input_image',
];
export const OUTPUT_BUCKETS: readonly Bucket[] = ['output', 'reasoning', 'output_audio', 'output_image'];
export const TOKEN_BUCKETS: readonly Bucket[] = [...INPUT_BUCKETS, ...OUTPUT_BUCKETS];
