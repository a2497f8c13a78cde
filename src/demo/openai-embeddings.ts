import { PertokenError } from '../errors.js';
import { requireModel, type RouteContext, type RouteResult } from './generation.js';
import { embeddingDimensions, supportsDimensions } from './models.js';
import { requestRng } from './random.js';
import { countTokens } from './text.js';

/**
 * POST /v1/embeddings. Each vector is unit length with small deterministic components drawn from
 * the seed and the input, so equal inputs embed equally. `dimensions` is honoured for the -3 models
 * and `encoding_format: "base64"` returns little-endian float32 bytes, as the SDKs expect.
 */
export function embeddings(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  const model = requireModel(body, 'openai');
  const inputs = readInputs(body.input);
  const dims = readDimensions(body, model);
  const base64 = body.encoding_format === 'base64';

  let promptTokens = 0;
  const data = inputs.map((input, index) => {
    promptTokens += input.tokens;
    const vector = unitVector(ctx.config.seed, model, input.key, dims);
    const embedding = base64 ? Buffer.from(Float32Array.from(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const reply: Record<string, unknown> = {
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
  if (ctx.faults.noUsage) delete reply.usage;
  return {
    kind: 'json',
    status: 200,
    body: reply,
    work: { promptTokens, generationTokens: 0, finishedReason: 'stop' },
  };
}

function unitVector(seed: number, model: string, key: string, dims: number): number[] {
  const rng = requestRng(seed, 'embeddings', model, key);
  const raw = Array.from({ length: dims }, () => rng() * 2 - 1);
  const norm = Math.sqrt(raw.reduce((sum, x) => sum + x * x, 0)) || 1;
  // Nine decimals is what the real API prints; it also keeps the JSON compact.
  return raw.map((x) => Math.round((x / norm) * 1e9) / 1e9);
}

interface EmbeddingInput {
  tokens: number;
  key: string;
}

function readInputs(value: unknown): EmbeddingInput[] {
  if (typeof value === 'string') return [{ tokens: countTokens(value), key: value }];
  if (Array.isArray(value) && value.length > 0) {
    if (value.every((item) => typeof item === 'string')) {
      return value.map((text: string) => ({ tokens: countTokens(text), key: text }));
    }
    if (value.every((item) => typeof item === 'number')) return [{ tokens: value.length, key: value.join(',') }];
    if (value.every((item) => Array.isArray(item) && item.every((id) => typeof id === 'number'))) {
      return (value as number[][]).map((ids) => ({ tokens: ids.length, key: ids.join(',') }));
    }
  }
  throw new PertokenError(
    'invalid_request',
    value === undefined
      ? "Missing required parameter: 'input'."
      : "Invalid 'input': expected a string, an array of strings, or an array of token ids.",
    { param: 'input' },
  );
}

function readDimensions(body: Record<string, unknown>, model: string): number {
  const native = embeddingDimensions(model);
  const requested = body.dimensions;
  if (requested === undefined || requested === null) return native;
  if (!supportsDimensions(model)) {
    throw new PertokenError('invalid_request', 'This model does not support specifying dimensions.', {
      param: 'dimensions',
    });
  }
  if (typeof requested !== 'number' || !Number.isSafeInteger(requested) || requested < 1 || requested > native) {
    throw new PertokenError('invalid_request', `Invalid 'dimensions': expected an integer from 1 to ${native}.`, {
      param: 'dimensions',
    });
  }
  return requested;
}
