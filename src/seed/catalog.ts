/**
 * What the seed generator draws from: real providers and models (all priced by the bundled
 * genai-prices data, checked in the tests), ranked by how much traffic such models typically see,
 * plus made-up but plausible organisation names — always written behind the prefixes below.
 */

/**
 * Every seeded event id is `seed:<ULID>`. Nothing else mints such ids (the gateway mints bare
 * ULIDs; `:` namespaces ingested ids, e.g. `otlp:`): an event whose id lacks the prefix is real,
 * and `pertoken seed` refuses a ledger holding one unless forced.
 */
export const SEED_ID_PREFIX = 'seed:';

/**
 * Every made-up attribution value (tenant, project, feature, user) starts with `seed-`, so that
 * seeded events can never count against a real tenant's, project's or feature's budget, even when
 * forced into a live ledger: `seed-acme`, not the README's `acme`.
 */
export const SEED_NAME_PREFIX = 'seed-';

export function seedName(name: string): string {
  return SEED_NAME_PREFIX + name;
}

/** Key ids hold no `-` (ids.ts KEY_ID): `seed_acme_support_bot_1`. */
export function seedKeyId(org: string, project: string, n: number): string {
  return `seed_${org}_${project}_${n}`.replaceAll('-', '_');
}

export type ModelKind = 'chat' | 'reasoning' | 'embedding';

export interface SeedModel {
  provider: string;
  /** What the client asked for. */
  requested: string;
  /** What the upstream answered with (a dated snapshot where providers do that). */
  served: string;
  kind: ModelKind;
  /** Gateway route the calls arrive on. */
  route: string;
}

const chat = (provider: string, requested: string, served = requested, route = '/v1/chat/completions'): SeedModel => ({
  provider,
  requested,
  served,
  kind: 'chat',
  route,
});
const reasoning = (
  provider: string,
  requested: string,
  served = requested,
  route = '/v1/chat/completions',
): SeedModel => ({
  ...chat(provider, requested, served, route),
  kind: 'reasoning',
});
const embedding = (provider: string, model: string): SeedModel => ({
  provider,
  requested: model,
  served: model,
  kind: 'embedding',
  route: '/v1/embeddings',
});
const messages = '/v1/messages';

/** Most used first: `--models N` takes the first N. */
export const SEED_MODELS: readonly SeedModel[] = [
  chat('openai', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18'),
  chat('openai', 'gpt-4o', 'gpt-4o-2024-08-06'),
  chat('anthropic', 'claude-sonnet-4-20250514', 'claude-sonnet-4-20250514', messages),
  chat('openai', 'gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14'),
  chat('google', 'gemini-2.5-flash'),
  embedding('openai', 'text-embedding-3-small'),
  chat('anthropic', 'claude-3-5-haiku-20241022', 'claude-3-5-haiku-20241022', messages),
  chat('openai', 'gpt-4.1', 'gpt-4.1-2025-04-14'),
  reasoning('openai', 'o4-mini', 'o4-mini-2025-04-16'),
  reasoning('openai', 'gpt-5-mini', 'gpt-5-mini-2025-08-07', '/v1/responses'),
  chat('anthropic', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929', messages),
  reasoning('google', 'gemini-2.5-pro'),
  reasoning('openai', 'gpt-5', 'gpt-5-2025-08-07', '/v1/responses'),
  chat('openai', 'gpt-4.1-nano', 'gpt-4.1-nano-2025-04-14'),
  chat('deepseek', 'deepseek-chat'),
  chat('mistral', 'mistral-small-latest'),
  chat('anthropic', 'claude-opus-4-1-20250805', 'claude-opus-4-1-20250805', messages),
  reasoning('openai', 'o3', 'o3-2025-04-16'),
  chat('groq', 'llama-3.3-70b-versatile'),
  chat('google', 'gemini-2.0-flash', 'gemini-2.0-flash-001'),
  embedding('openai', 'text-embedding-3-large'),
  reasoning('deepseek', 'deepseek-reasoner'),
  chat('mistral', 'mistral-large-latest', 'mistral-large-2411'),
  reasoning('x-ai', 'grok-3-mini'),
  chat('anthropic', 'claude-haiku-4-5', 'claude-haiku-4-5-20251001', messages),
  reasoning('openai', 'gpt-5-nano', 'gpt-5-nano-2025-08-07', '/v1/responses'),
  chat('groq', 'llama-3.1-8b-instant'),
  chat('cohere', 'command-r', 'command-r-08-2024'),
  chat('x-ai', 'grok-3'),
  reasoning('openai', 'o3-mini', 'o3-mini-2025-01-31'),
  chat('google', 'gemini-2.5-flash-lite'),
  chat('anthropic', 'claude-3-haiku-20240307', 'claude-3-haiku-20240307', messages),
  chat('together', 'meta-llama/Llama-3.3-70B-Instruct-Turbo'),
  chat('openai', 'gpt-3.5-turbo', 'gpt-3.5-turbo-0125'),
  chat('cohere', 'command-r-plus', 'command-r-plus-08-2024'),
  chat('aws', 'amazon.nova-pro-v1:0'),
];

/** A self-hosted fine-tune nobody put in the price book: its events are unpriced (cost null). */
export const UNPRICED_MODEL: SeedModel = chat('seed-vllm', 'llama-3.1-8b-ft');

const ORGS = [
  'acme',
  'globex',
  'initech',
  'umbrella',
  'hooli',
  'piedpiper',
  'stark',
  'wayne',
  'wonka',
  'cyberdyne',
  'tyrell',
  'soylent',
  'oscorp',
  'aperture',
  'blackmesa',
  'vandelay',
  'dundermifflin',
  'gringotts',
  'monsters',
  'nakatomi',
  'massive',
  'prestige',
  'sterling',
  'wernham',
  'bluth',
  'kramerica',
  'duff',
  'krusty',
  'lacroix',
  'veridian',
  'virtucon',
  'yoyodyne',
  'zorg',
  'omni',
  'ingen',
  'rekall',
  'weyland',
  'abstergo',
  'sirius',
  'mombasa',
];

/** The organisation of tenant `rank`, without the seed prefix: `acme`, …, `acme-2`. */
export function orgName(rank: number): string {
  const base = ORGS[rank % ORGS.length]!;
  const round = Math.floor(rank / ORGS.length);
  return round === 0 ? base : `${base}-${round + 1}`;
}

export const PROJECTS = [
  'search',
  'support-bot',
  'copilot',
  'analytics',
  'docs-qa',
  'agents',
  'summaries',
  'translation',
];
export const FEATURES = ['chat', 'summarise', 'extract', 'classify', 'rag', 'agent-step', 'autocomplete'];
