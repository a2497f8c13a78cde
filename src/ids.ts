/**
 * The one set of id rules. Every place that accepts an id — the event API, config, the attribution
 * headers, the admin API, adjustments and the CLI — checks it against a rule from here, so an id
 * accepted by one door is accepted by all of them, with the same message.
 */
import { z } from 'zod';

export interface IdRule {
  readonly pattern: RegExp;
  /** What the rule allows, in the words of an error message. */
  readonly description: string;
}

function rule(pattern: RegExp, description: string): IdRule {
  return Object.freeze({ pattern, description });
}

/** Event and adjustment ids: stored as TEXT; `:` joins namespaces (`otlp:<trace>:<span>`). */
export const EVENT_ID = rule(/^[A-Za-z0-9._:-]{1,128}$/, '1-128 characters of A-Z a-z 0-9 . _ : -');

/**
 * Attribution dimensions (tenant, project, user, feature, trace id): they travel in headers and
 * URLs, so no spaces or commas; `@`, `/` and `+` allow emails and paths as user and feature ids.
 */
export const DIMENSION_ID = rule(/^[A-Za-z0-9._:@/+-]{1,128}$/, '1-128 characters of A-Z a-z 0-9 . _ : @ / + -');

/** One side of a `k=v` pair in `x-pertoken-tags`: a dimension without `@` (it splits nothing). */
export const TAG_PART = rule(/^[A-Za-z0-9._:/+-]{1,64}$/, '1-64 characters of A-Z a-z 0-9 . _ : / + -');

/** Virtual key ids are part of the key string `pt-<id>-<secret>`, so they hold no `-`. */
export const KEY_ID = rule(
  /^[a-z0-9][a-z0-9_]{2,62}$/,
  '3-63 characters of a-z 0-9 _, starting with a letter or digit',
);

export const BUDGET_ID = rule(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  '1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit',
);

/** Names of config objects (upstreams, pools): they appear in metric labels and file names. */
export const CONFIG_NAME = rule(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
  'letters, digits, ".", "_" or "-", up to 63 characters',
);

/** Who did an admin action, as the audit log records it (`x-pertoken-actor`, `--actor`). */
export const ACTOR_NAME = rule(/^[A-Za-z0-9._@:+-]{1,64}$/, '1-64 characters of A-Z a-z 0-9 . _ @ : + -');

export function matchesId(id: IdRule, value: unknown): value is string {
  return typeof value === 'string' && id.pattern.test(value);
}

/** The rule as a zod string schema, for config and request bodies. */
export function idSchema(id: IdRule): z.ZodString {
  return z.string().regex(id.pattern, id.description);
}
