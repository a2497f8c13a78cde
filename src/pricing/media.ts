import { globMatch } from '../glob.js';
import { divRoundHalfEven, parseDecimalScaled } from '../money.js';
import type { Bucket, Buckets } from '../usage/index.js';
import { genaiPricesDataVersion, lookupCatalog, selectVariant } from './genai.js';
import type { PriceBook, PriceResult } from './types.js';

/**
 * Prices of the media endpoints (images, speech, transcription, moderation) that are not per token.
 *
 * Token-billed media models (gpt-image-*, gpt-4o-transcribe, gpt-4o-mini-tts) are in genai-prices
 * and go through the book like any call. What the book cannot price:
 * - per image (DALL·E) and per character (tts-1): not in genai-prices, so the published list prices
 *   are kept here, dated like any price;
 * - per audio hour (whisper-1, gpt-transcribe): in genai-prices as `audio_hours`, a key of no token
 *   bucket, read here from the same pinned data;
 * - free models (moderation): genai-prices lists them with no price at all.
 * Operator overrides are per token bucket and do not apply to these units.
 */

/** The units a media call can be billed by when its response reports no tokens. */
export type MediaUnits =
  | { kind: 'images'; count: number; size: string | null; quality: string | null }
  | { kind: 'characters'; count: number }
  | { kind: 'audio_seconds'; seconds: number }
  /** One call of a model whose price may be nothing at all (moderation). */
  | { kind: 'call' };

export interface MediaPriceQuery {
  provider: string;
  model: string;
  /** The call's own time: prices are looked up as of this instant. */
  at: Date;
}

/** Version of the table below, recorded in price_ref. */
const MEDIA_TABLE = 'pertoken-media@2025-06';

interface ImagePrices {
  provider: string;
  /** Glob over the model name; first match wins. */
  model: string;
  from: string;
  defaultSize: string;
  defaultQuality: string;
  /** USD per image by `quality/size`. */
  usd: Readonly<Record<string, string>>;
}

/** https://openai.com/api/pricing (image generation, per image). Edits and variations cost the same. */
const IMAGE_PRICES: readonly ImagePrices[] = [
  {
    provider: 'openai',
    model: 'dall-e-3*',
    from: '2023-11-06',
    defaultSize: '1024x1024',
    defaultQuality: 'standard',
    usd: {
      'standard/1024x1024': '0.04',
      'standard/1024x1792': '0.08',
      'standard/1792x1024': '0.08',
      'hd/1024x1024': '0.08',
      'hd/1024x1792': '0.12',
      'hd/1792x1024': '0.12',
    },
  },
  {
    provider: 'openai',
    model: 'dall-e-2*',
    from: '2023-11-06',
    defaultSize: '1024x1024',
    defaultQuality: 'standard',
    usd: { 'standard/256x256': '0.016', 'standard/512x512': '0.018', 'standard/1024x1024': '0.02' },
  },
];

interface CharacterPrices {
  provider: string;
  model: string;
  from: string;
  /** USD per 1M characters of input text. */
  usdPerMillion: string;
}

/** https://openai.com/api/pricing (text to speech, per 1M characters); `-hd` before its prefix. */
const CHARACTER_PRICES: readonly CharacterPrices[] = [
  { provider: 'openai', model: 'tts-1-hd*', from: '2023-11-06', usdPerMillion: '30' },
  { provider: 'openai', model: 'tts-1*', from: '2023-11-06', usdPerMillion: '15' },
];

/** genai-prices keys of a per-audio-hour price, first present wins. */
const AUDIO_HOUR_KEYS = ['input_audio_hours', 'audio_hours'] as const;

const SCALE = 12;

function unpriced(reason: string, ref: string | null = null): PriceResult {
  return { cost_nano: null, lines: [], price_ref: ref, unpriced_reason: reason };
}

function started(from: string, at: Date): boolean {
  return at.getTime() >= Date.parse(`${from}T00:00:00Z`);
}

/** Prices a media call by its units; never $0 for a model the data does not say is free. */
export function priceMediaUnits(book: PriceBook, query: MediaPriceQuery & { units: MediaUnits }): PriceResult {
  const { provider, model, at, units } = query;
  switch (units.kind) {
    case 'images': {
      const table = IMAGE_PRICES.find((t) => t.provider === provider && globMatch(t.model, model));
      if (!table) return unpriced(`no per-image price for ${provider}/${model}`);
      if (!started(table.from, at)) return unpriced(`no per-image price for ${provider}/${model} before ${table.from}`);
      const key = `${units.quality ?? table.defaultQuality}/${units.size ?? table.defaultSize}`;
      const usd = table.usd[key];
      if (usd === undefined) return unpriced(`no per-image price for ${provider}/${model} at quality/size ${key}`);
      const scaled = parseDecimalScaled(usd, SCALE, 'usd');
      // USD×1e12 per image: nano = images × scaled / 1e3.
      return priced(
        divRoundHalfEven(BigInt(units.count) * scaled, 1_000n),
        `${MEDIA_TABLE}:${provider}/${table.model.replace('*', '')}@${table.from};image=${key}`,
      );
    }
    case 'characters': {
      const table = CHARACTER_PRICES.find((t) => t.provider === provider && globMatch(t.model, model));
      if (!table) return unpriced(`no per-character price for ${provider}/${model}`);
      if (!started(table.from, at))
        return unpriced(`no per-character price for ${provider}/${model} before ${table.from}`);
      const scaled = parseDecimalScaled(table.usdPerMillion, SCALE, 'usd');
      // USD×1e12 per 1M characters: nano = characters × scaled / 1e9, as for tokens.
      return priced(
        divRoundHalfEven(BigInt(units.count) * scaled, 1_000_000_000n),
        `${MEDIA_TABLE}:${provider}/${table.model.replace('*', '')}@${table.from};per=1M_characters`,
      );
    }
    case 'audio_seconds': {
      const found = catalogPrices(provider, model, at);
      if (!found.ok) return unpriced(found.reason);
      const key = AUDIO_HOUR_KEYS.find((k) => typeof found.prices[k] === 'number');
      if (key === undefined)
        return unpriced(`no per-audio-hour price for ${provider}/${model} in ${found.ref}`, found.ref);
      const perHour = found.prices[key] as number;
      const scaled = parseDecimalScaled(perHour, SCALE, key, { excess: 'half-even' });
      // OpenAI bills audio by the second; nano = seconds × (USD×1e12 per hour) / 3600 / 1e3.
      const seconds = Math.max(0, Math.round(units.seconds));
      return priced(divRoundHalfEven(BigInt(seconds) * scaled, 3_600_000n), `${found.ref};per=${key}`);
    }
    case 'call': {
      const rates = book.rates(provider, model, at);
      if (rates && rates.rates.length > 0)
        return unpriced(`${provider}/${model} is priced per token and the response reported no usage`, rates.price_ref);
      const found = catalogPrices(provider, model, at);
      if (!found.ok) return unpriced(found.reason);
      if (Object.keys(found.prices).length > 0)
        return unpriced(`${provider}/${model} has a price pertoken cannot apply to a call without usage`, found.ref);
      // The data lists the model with no price at all: it is free (OpenAI moderation), recorded as such.
      return { cost_nano: 0n, lines: [], price_ref: `${found.ref};free`, unpriced_reason: null };
    }
  }
}

/** Unit prices have no token lines: the event's raw usage keeps the units, price_ref the rate. */
function priced(cost: bigint, ref: string): PriceResult {
  return { cost_nano: cost, lines: [], price_ref: ref, unpriced_reason: null };
}

type CatalogPrices =
  { ok: true; prices: Readonly<Record<string, unknown>>; ref: string } | { ok: false; reason: string };

function catalogPrices(provider: string, model: string, at: Date): CatalogPrices {
  const version = genaiPricesDataVersion();
  const found = lookupCatalog(provider, model, version);
  if (!found.ok) return found;
  const { variant } = selectVariant(found.entry.model, at);
  const prices: Readonly<Record<string, unknown>> = Object.fromEntries(Object.entries(variant.prices));
  return {
    ok: true,
    prices,
    ref: `${version}:${found.entry.provider.id}/${found.entry.model.id}`,
  };
}

/** Media output kinds that genai-prices prices at a model's `output` rate when it lists no own rate. */
const MEDIA_OUTPUT: readonly Bucket[] = ['output_image', 'output_audio'];

/**
 * Prices the token usage of a media endpoint. Image and speech models whose only output is an
 * image or audio (gpt-image-1, gpt-4o-mini-tts) carry that output's price as `output_mtok` in
 * genai-prices, with no `output_image`/`output_audio` rate; their media output is then priced at
 * the output rate, and the returned buckets say so (a re-pricing of the event gives the same cost).
 */
export function priceMediaTokens(
  book: PriceBook,
  query: MediaPriceQuery & { buckets: Buckets },
): { result: PriceResult; buckets: Buckets; folded: Bucket[] } {
  const first = book.price(query);
  if (first.cost_nano !== null) return { result: first, buckets: query.buckets, folded: [] };
  const rates = book.rates(query.provider, query.model, query.at);
  if (!rates) return { result: first, buckets: query.buckets, folded: [] };
  const has = (b: Bucket): boolean => rates.rates.some((r) => r.bucket === b);
  const buckets: Buckets = { ...query.buckets };
  const folded: Bucket[] = [];
  for (const media of MEDIA_OUTPUT) {
    const n = buckets[media];
    if (!n || has(media) || !has('output')) continue;
    buckets.output = (buckets.output ?? 0) + n;
    delete buckets[media];
    folded.push(media);
  }
  if (folded.length === 0) return { result: first, buckets: query.buckets, folded };
  const second = book.price({ ...query, buckets });
  if (second.cost_nano === null) return { result: first, buckets: query.buckets, folded: [] };
  return { result: second, buckets, folded };
}
