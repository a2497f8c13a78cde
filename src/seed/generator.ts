import { PertokenError } from '../errors.js';
import type { EventRow } from '../ledger/index.js';
import type { PriceBook } from '../pricing/index.js';
import { BUCKETS, type Bucket } from '../usage/index.js';
import {
  FEATURES,
  PROJECTS,
  SEED_ID_PREFIX,
  SEED_MODELS,
  UNPRICED_MODEL,
  orgName,
  seedKeyId,
  seedName,
  type SeedModel,
} from './catalog.js';
import { MAX_SEED_INPUT, SeedPricer } from './pricer.js';
import { Zipf, createRandom, logNormalInt, type Random } from './random.js';

/**
 * Synthetic but realistic ledger data, deterministic for a given seed and end date:
 * - volume follows a diurnal curve (EU morning and US afternoon peaks, UTC), quiet weekends and
 *   a slow growth over the period; events are generated in time order;
 * - tenants and models are Zipf-skewed (a few tenants and models carry most of the spend); each
 *   tenant runs 1-5 projects with a few features and keys each, and standardises on 2-10 models
 *   (drawn by popularity); 15% of calls name an end user. This keeps the number of distinct
 *   (hour, tenant, project, key, feature, user, model) rollup keys at what real traffic shows;
 * - token counts are log-normal; a share of calls read the prompt cache (and write it, on
 *   Anthropic), reasoning models emit reasoning tokens, a few calls use web search;
 * - prices are the real bundled prices, computed exactly (SeedPricer), at each event's own time;
 * - ids are `seed:<ULID>` and every tenant, project, feature, user and key name is prefixed
 *   (catalog.ts), so seeded data is recognisable and never collides with real attribution;
 * - about 0.2% of calls go to an unpriced self-hosted fine-tune (cost null), ~1% fail (not
 *   billed), ~0.5% are cut off or lack usage and carry an estimate, ~8% arrive through the
 *   event API with reported usage.
 */

export interface SeedOptions {
  events: number;
  tenants: number;
  /** How many of the catalogue's models (most used first). */
  models: number;
  days: number;
  seed: number;
  /** Exclusive end of the period; the same seed and end give the same data. */
  end: Date;
  /** Rows per yielded batch. Default 50 000. */
  batchSize?: number;
}

export const SEED_LIMITS = { events: 1_000_000_000, tenants: 100_000, days: 3650, models: SEED_MODELS.length } as const;

interface Project {
  name: string;
  keys: string[];
  /** The features this project's code paths are tagged with. */
  features: string[];
  featureZipf: Zipf;
}

interface Tenant {
  name: string;
  projects: Project[];
  projectZipf: Zipf;
  users: string[];
  userZipf: Zipf;
  /** Indexes into the model list: a team standardises on a few models, popular ones first. */
  models: number[];
  modelZipf: Zipf;
}

interface ModelInfo extends SeedModel {
  cacheRead: boolean;
  cacheWrite: boolean;
  webSearch: boolean;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const IDX = Object.fromEntries(BUCKETS.map((b, i) => [b, i])) as Record<Bucket, number>;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ESTIMATED_ISSUE = JSON.stringify(['estimated: no usage arrived (stream cut or provider omission)']);
const UNPRICED_ISSUE = JSON.stringify([`unpriced: no price for ${UNPRICED_MODEL.provider}/${UNPRICED_MODEL.served}`]);

function checkInt(
  name: keyof typeof SEED_LIMITS | 'seed' | 'batchSize',
  value: number,
  min: number,
  max: number,
): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new PertokenError(
      'invalid_request',
      `${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
      {
        param: name,
      },
    );
  }
}

export function checkSeedOptions(o: SeedOptions): void {
  checkInt('events', o.events, 1, SEED_LIMITS.events);
  checkInt('tenants', o.tenants, 1, SEED_LIMITS.tenants);
  checkInt('models', o.models, 1, SEED_LIMITS.models);
  checkInt('days', o.days, 1, SEED_LIMITS.days);
  checkInt('seed', o.seed, 0, 2 ** 32 - 1);
  checkInt('batchSize', o.batchSize ?? 50_000, 1, 1_000_000);
  if (!(o.end instanceof Date) || !Number.isFinite(o.end.getTime())) {
    throw new PertokenError('invalid_request', 'end must be a valid date', { param: 'end' });
  }
}

/** Relative traffic of the hour starting at `ms`. */
function hourWeight(ms: number, startMs: number, spanMs: number): number {
  const date = new Date(ms);
  const h = date.getUTCHours();
  const dow = date.getUTCDay();
  const diurnal = 0.2 + Math.exp(-(((h - 15) / 4) ** 2)) + 0.6 * Math.exp(-(((h - 9) / 2.5) ** 2));
  const weekly = dow === 0 ? 0.35 : dow === 6 ? 0.45 : 1;
  const growth = 0.8 + (0.4 * (ms - startMs)) / spanMs;
  return diurnal * weekly * growth;
}

/** Events per hour: floor of the cumulative share, so the counts sum to exactly `events`. */
export function hourlyCounts(events: number, startMs: number, hours: number): number[] {
  const weights = Array.from({ length: hours }, (_, i) => hourWeight(startMs + i * HOUR_MS, startMs, hours * HOUR_MS));
  const total = weights.reduce((a, b) => a + b, 0);
  const counts: number[] = [];
  let cumulative = 0;
  let assigned = 0;
  for (const w of weights) {
    cumulative += w;
    const upTo = Math.min(events, Math.floor((events * cumulative) / total + 1e-9));
    counts.push(upTo - assigned);
    assigned = upTo;
  }
  counts[counts.length - 1]! += events - assigned;
  return counts;
}

/** Distinct indexes drawn by `zipf` (popular ones first), at most `count` of them. */
function drawDistinct(zipf: Zipf, count: number, random: Random): number[] {
  const chosen: number[] = [];
  for (let tries = 0; chosen.length < Math.min(count, zipf.size) && tries < 1000; tries++) {
    const i = zipf.sample(random);
    if (!chosen.includes(i)) chosen.push(i);
  }
  return chosen;
}

function buildTenants(count: number, modelCount: number, random: Random): Tenant[] {
  const globalModels = new Zipf(modelCount, 0.9);
  const features = new Zipf(FEATURES.length, 0.8);
  return Array.from({ length: count }, (_, rank) => {
    const org = orgName(rank);
    const big = rank < count / 10;
    const projectCount = big ? 3 + Math.floor(random() * 3) : 1 + Math.floor(random() * 2);
    const offset = Math.floor(random() * PROJECTS.length);
    const projects = Array.from({ length: projectCount }, (_, i): Project => {
      const project = PROJECTS[(offset + i) % PROJECTS.length]!;
      const featureList = drawDistinct(features, 1 + Math.floor(random() * 3), random).map((f) =>
        seedName(FEATURES[f]!),
      );
      return {
        name: seedName(project),
        keys: Array.from({ length: random() < 0.3 ? 2 : 1 }, (_, k) => seedKeyId(org, project, k + 1)),
        features: featureList,
        featureZipf: new Zipf(featureList.length, 1.0),
      };
    });
    const users = Array.from({ length: 3 + Math.floor(random() * 40) }, (_, i) => seedName(`user-${i + 1}@${org}`));
    const models = drawDistinct(
      globalModels,
      big ? 6 + Math.floor(random() * 5) : 2 + Math.floor(random() * 4),
      random,
    );
    return {
      name: seedName(org),
      projects,
      projectZipf: new Zipf(projectCount, 1.0),
      users,
      userZipf: new Zipf(users.length, 1.2),
      models,
      modelZipf: new Zipf(models.length, 1.1),
    };
  });
}

function modelInfo(model: SeedModel, book: PriceBook, at: Date): ModelInfo {
  const rates = book.rates(model.provider, model.served, at, 0);
  const has = (bucket: Bucket): boolean => rates?.rates.some((r) => r.bucket === bucket) ?? false;
  return { ...model, cacheRead: has('cache_read'), cacheWrite: has('cache_write_5m'), webSearch: has('web_search') };
}

/** 26-char ULID from a time and 80 random bits drawn from `random`. */
function ulid(ms: number, random: Random): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  for (let part = 0; part < 4; part++) {
    let r = Math.floor(random() * 1_048_576); // 20 bits = 4 chars
    let chunk = '';
    for (let i = 0; i < 4; i++) {
      chunk = CROCKFORD[r & 31]! + chunk;
      r >>>= 5;
    }
    out += chunk;
  }
  return out;
}

/** The batches of event rows for `options`, in time order. */
export function* generateSeedRows(options: SeedOptions, book: PriceBook): Generator<EventRow[]> {
  checkSeedOptions(options);
  const batchSize = options.batchSize ?? 50_000;
  const random = createRandom(options.seed);
  const endMs = Math.floor(options.end.getTime() / HOUR_MS) * HOUR_MS;
  const hours = options.days * (DAY_MS / HOUR_MS);
  const startMs = endMs - hours * HOUR_MS;
  const tenants = buildTenants(options.tenants, options.models, random);
  const tenantZipf = new Zipf(tenants.length, 1.05);
  const models = SEED_MODELS.slice(0, options.models).map((m) => modelInfo(m, book, options.end));
  const unpriced = modelInfo(UNPRICED_MODEL, book, options.end);
  const pricer = new SeedPricer(book);
  const counts = new Array<number>(BUCKETS.length).fill(0);

  let batch: EventRow[] = [];
  const perHour = hourlyCounts(options.events, startMs, hours);
  for (let h = 0; h < hours; h++) {
    const n = perHour[h]!;
    const hourStart = startMs + h * HOUR_MS;
    for (let i = 0; i < n; i++) {
      const timeMs = hourStart + Math.floor(((i + random()) * HOUR_MS) / n);
      const tenant = tenants[tenantZipf.sample(random)]!;
      const project = tenant.projects[tenant.projectZipf.sample(random)]!;
      const model = random() < 0.002 ? unpriced : models[tenant.models[tenant.modelZipf.sample(random)]!]!;
      const api = random() < 0.08;
      const roll = random();
      const failed = !api && roll < 0.01;
      const cancelled = !api && !failed && roll < 0.013;
      const estimated = cancelled || (!api && !failed && roll < 0.018);
      const streamed = !api && model.kind !== 'embedding' && random() < 0.65;

      counts.fill(0);
      if (!failed) {
        if (model.kind === 'embedding') {
          counts[IDX.input] = logNormalInt(random, 400, 1.0, 1, 8191);
        } else {
          const input = logNormalInt(random, 1500, 1.2, 5, MAX_SEED_INPUT);
          let plain = input;
          if (model.cacheRead && random() < 0.35) {
            const read = Math.floor(input * (0.3 + 0.6 * random()));
            counts[IDX.cache_read] = read;
            plain -= read;
          }
          if (model.cacheWrite && random() < 0.12) {
            const write = Math.floor(plain * 0.8);
            counts[IDX[random() < 0.8 ? 'cache_write_5m' : 'cache_write_1h']] = write;
            plain -= write;
          }
          counts[IDX.input] = plain;
          counts[IDX.output] = cancelled
            ? logNormalInt(random, 60, 1, 0, 2000)
            : logNormalInt(random, 280, 0.9, 1, 16_000);
          if (model.kind === 'reasoning') counts[IDX.reasoning] = logNormalInt(random, 700, 1.0, 0, 30_000);
          if (model.webSearch && random() < 0.01) counts[IDX.web_search] = 1;
        }
      }

      let cost: number | null = 0;
      let priceRef: string | null = 'not-billed';
      if (!failed) {
        const served = pricer.price(model.provider, model.served, timeMs, counts);
        const priced =
          served.cost_nano !== null || model.served === model.requested
            ? served
            : pricer.price(model.provider, model.requested, timeMs, counts);
        cost = priced.cost_nano;
        priceRef = priced.cost_nano === null ? null : priced.price_ref;
      }
      const userRoll = random();
      const featureRoll = random();
      const latency = api
        ? null
        : logNormalInt(random, 900 + 4 * (counts[IDX.output]! + counts[IDX.reasoning]!), 0.5, 40, 300_000);

      batch.push({
        id: SEED_ID_PREFIX + ulid(timeMs, random),
        time_ms: timeMs,
        origin: api ? 'api' : 'gateway',
        source: api ? 'batch-import' : model.provider,
        tenant: tenant.name,
        project: project.name,
        user_id: userRoll < 0.15 ? tenant.users[tenant.userZipf.sample(random)]! : null,
        feature: featureRoll < 0.9 ? project.features[project.featureZipf.sample(random)]! : null,
        key_id: api ? null : project.keys[Math.floor(random() * project.keys.length)]!,
        trace_id: null,
        tags: '{}',
        provider: model.provider,
        requested_model: model.requested,
        model: model.served,
        route: api ? 'event' : model.route,
        status: failed ? 'error' : cancelled ? 'cancelled' : 'ok',
        http_status: api || cancelled ? null : failed ? (roll < 0.006 ? 429 : 500) : 200,
        streamed: streamed ? 1 : 0,
        latency_ms: latency,
        ttft_ms: streamed && latency !== null ? Math.min(latency, logNormalInt(random, 350, 0.5, 20, 20_000)) : null,
        tok_input: counts[IDX.input]!,
        tok_cache_read: counts[IDX.cache_read]!,
        tok_cache_write_5m: counts[IDX.cache_write_5m]!,
        tok_cache_write_1h: counts[IDX.cache_write_1h]!,
        tok_input_audio: 0,
        tok_input_image: 0,
        tok_output: counts[IDX.output]!,
        tok_reasoning: counts[IDX.reasoning]!,
        tok_output_audio: 0,
        tok_output_image: 0,
        tok_requests: 0,
        tok_web_search: counts[IDX.web_search]!,
        tok_tool_calls: 0,
        usage_source: api ? 'reported' : estimated ? 'estimated' : 'provider',
        cost_nano: cost,
        price_ref: priceRef,
        raw_usage: null,
        usage_issues: cost === null ? UNPRICED_ISSUE : estimated ? ESTIMATED_ISSUE : '[]',
      });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}
