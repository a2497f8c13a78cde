/**
 * Test-only types of the wire shapes the demo upstream sends, written out exactly (no optional
 * fields where the demo always sends one) so tests can read them without casts to `any`.
 */

/** The item at `index` (negative counts from the end); throws when there is none. */
export function nth<T>(items: readonly T[], index: number): T {
  const item = items.at(index);
  if (item === undefined) throw new Error(`no item at ${index} of ${items.length}`);
  return item;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

export interface ChatCompletion {
  id: string;
  object: string;
  created: number;
  model: string;
  system_fingerprint: string;
  service_tier: string;
  choices: [
    {
      index: number;
      message: { role: string; content: string; refusal: null; annotations: unknown[] };
      logprobs: null;
      finish_reason: string;
    },
  ];
  usage: ChatUsage;
}

export interface ChatChunk {
  id: string;
  object: string;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: string; content?: string; refusal?: null };
    logprobs: null;
    finish_reason: string | null;
  }>;
  usage?: ChatUsage | null;
}

export interface LegacyUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface LegacyCompletion {
  id: string;
  object: string;
  model: string;
  choices: [{ text: string; index: number; logprobs: null; finish_reason: string | null }];
  usage?: LegacyUsage | null;
}

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface OutputPart {
  type: string;
  text: string;
  annotations: unknown[];
}

export interface OutputItem {
  id: string;
  type: string;
  status?: string;
  role?: string;
  content?: OutputPart[];
  summary?: unknown[];
}

export interface ResponseBody {
  id: string;
  object: string;
  status: string;
  model: string;
  output: OutputItem[];
  incomplete_details: { reason: string } | null;
  max_output_tokens: number | null;
  usage: ResponsesUsage | null;
}

export interface ResponsesEvent {
  type: string;
  sequence_number: number;
  response?: ResponseBody;
  item?: OutputItem;
  item_id?: string;
  output_index?: number;
  content_index?: number;
  part?: OutputPart;
  delta?: string;
  text?: string;
}

export interface EmbeddingList {
  object: string;
  model: string;
  data: Array<{ object: string; index: number; embedding: number[] | string }>;
  usage?: { prompt_tokens: number; total_tokens: number };
}

export interface AnthropicUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
  service_tier?: string;
}

export interface AnthropicBlock {
  type: string;
  text?: string;
  thinking?: string;
  signature?: string;
}

export interface AnthropicMessage {
  id: string;
  type: string;
  role: string;
  model: string;
  content: AnthropicBlock[];
  stop_reason: string | null;
  stop_sequence: string | null;
  usage?: AnthropicUsage;
}

export interface AnthropicEvent {
  type: string;
  message?: AnthropicMessage;
  index?: number;
  content_block?: AnthropicBlock;
  delta?: { type?: string; text?: string; thinking?: string; signature?: string; stop_reason?: string };
  usage?: AnthropicUsage;
}
