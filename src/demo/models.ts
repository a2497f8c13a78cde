/**
 * Model facts the demo upstream needs to look real: the dated snapshots providers answer with, which
 * models reason, and embedding dimensions.
 */

/** OpenAI answers an alias with the dated snapshot that served it. */
const OPENAI_SNAPSHOTS: Record<string, string> = {
  'gpt-4o': 'gpt-4o-2024-08-06',
  'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
  'gpt-4.1': 'gpt-4.1-2025-04-14',
  'gpt-4.1-mini': 'gpt-4.1-mini-2025-04-14',
  'gpt-4.1-nano': 'gpt-4.1-nano-2025-04-14',
  'gpt-3.5-turbo': 'gpt-3.5-turbo-0125',
  o1: 'o1-2024-12-17',
  o3: 'o3-2025-04-16',
  'o3-mini': 'o3-mini-2025-01-31',
  'o4-mini': 'o4-mini-2025-04-16',
  'gpt-5': 'gpt-5-2025-08-07',
  'gpt-5-mini': 'gpt-5-mini-2025-08-07',
  'gpt-5-nano': 'gpt-5-nano-2025-08-07',
};

/** Anthropic's `-latest` / `-0` aliases resolve to a dated model id. */
const ANTHROPIC_SNAPSHOTS: Record<string, string> = {
  'claude-3-5-haiku-latest': 'claude-3-5-haiku-20241022',
  'claude-3-5-sonnet-latest': 'claude-3-5-sonnet-20241022',
  'claude-3-7-sonnet-latest': 'claude-3-7-sonnet-20250219',
  'claude-sonnet-4-0': 'claude-sonnet-4-20250514',
  'claude-opus-4-0': 'claude-opus-4-20250514',
};

export function servedOpenAIModel(requested: string): string {
  return OPENAI_SNAPSHOTS[requested] ?? requested;
}

export function servedAnthropicModel(requested: string): string {
  return ANTHROPIC_SNAPSHOTS[requested] ?? requested;
}

/** OpenAI reasoning families: their completion tokens include hidden reasoning tokens. */
export function isReasoningModel(model: string): boolean {
  return /^(o1|o3|o4|gpt-5)/.test(model);
}

/** Native dimensions of OpenAI embedding models; unknown models get 1536 like ada-002. */
export function embeddingDimensions(model: string): number {
  if (model.startsWith('text-embedding-3-large')) return 3072;
  return 1536;
}

/** Whether the model honours the `dimensions` request parameter (only the -3 family does). */
export function supportsDimensions(model: string): boolean {
  return model.startsWith('text-embedding-3');
}

const CREATED = 1_715_367_049;

export const OPENAI_MODEL_IDS: readonly string[] = [
  ...Object.keys(OPENAI_SNAPSHOTS),
  ...Object.values(OPENAI_SNAPSHOTS),
  'gpt-3.5-turbo-instruct',
  'text-embedding-3-small',
  'text-embedding-3-large',
  'text-embedding-ada-002',
];

export const ANTHROPIC_MODEL_IDS: readonly string[] = Object.values(ANTHROPIC_SNAPSHOTS);

/** GET /v1/models in OpenAI's shape. */
export function openaiModelList(): unknown {
  return {
    object: 'list',
    data: OPENAI_MODEL_IDS.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'system' })),
  };
}

/** GET /v1/models in Anthropic's shape (chosen when the request carries `anthropic-version`). */
export function anthropicModelList(): unknown {
  const data = ANTHROPIC_MODEL_IDS.map((id) => ({
    type: 'model',
    id,
    display_name: id,
    created_at: '2025-05-22T00:00:00Z',
  }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
