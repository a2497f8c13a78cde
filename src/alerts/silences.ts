/**
 * Silences: "this alert is known, stop telling people about it until `to`" — the way to acknowledge
 * a planned spend increase. A silenced alert still opens, resolves and is listed; it queues no
 * notification while a silence covers it. Its resolve does notify the sinks that heard it fire (a
 * receiver must not be left with an incident open forever), and an alert silenced for its whole
 * life notifies nothing. Matching is on equality: every matcher must equal the alert's scope value
 * (or kind); an alert without that dimension does not match it.
 */
import { z } from 'zod';
import { invalidInput } from '../errors.js';
import { ALERT_KINDS, SCOPE_KEYS, type AlertKind, type AlertScope, type Silence } from './types.js';

/** A silence longer than this is a disabled detector, which belongs in the config instead. */
const MAX_SILENCE_MS = 366 * 86_400_000;

const matcherValue = z.string().min(1).max(256);

const silenceInputSchema = z
  .object({
    matchers: z
      .object({
        ...Object.fromEntries(SCOPE_KEYS.map((key) => [key, matcherValue.optional()])),
        kind: z.enum(ALERT_KINDS).optional(),
      })
      .strict(),
    /** Default: now. */
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }),
    reason: z.string().trim().min(1).max(1000),
  })
  .strict();

export type SilenceInput = Omit<Silence, 'id' | 'created_at'>;

/** `POST /api/v1/admin/silences {"matchers":{…scope, kind?},"from"?,"to","reason"}`; 400 names the bad field. */
export function parseSilenceInput(body: unknown, now: Date): SilenceInput {
  const result = silenceInputSchema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
    throw invalidInput(param, issue?.message ?? 'invalid silence');
  }
  const input = result.data;
  const from = input.from === undefined ? now : new Date(input.from);
  const to = new Date(input.to);
  if (to <= from) throw invalidInput('to', 'must be after from');
  if (to <= now) throw invalidInput('to', 'must be in the future');
  if (to.getTime() - from.getTime() > MAX_SILENCE_MS) throw invalidInput('to', 'a silence lasts at most 366 days');
  const matchers: Silence['matchers'] = {};
  for (const key of SCOPE_KEYS) {
    const value = (input.matchers as AlertScope)[key];
    if (value !== undefined) matchers[key] = value;
  }
  if (input.matchers.kind !== undefined) matchers.kind = input.matchers.kind;
  return { matchers, from, to, reason: input.reason };
}

export interface Silenceable {
  kind: AlertKind;
  scope: AlertScope;
}

export function silenceMatches(silence: Silence, alert: Silenceable): boolean {
  if (silence.matchers.kind !== undefined && silence.matchers.kind !== alert.kind) return false;
  for (const key of SCOPE_KEYS) {
    const want = silence.matchers[key];
    if (want !== undefined && alert.scope[key] !== want) return false;
  }
  return true;
}

/** The silences in force at `at` that cover the alert (from <= at < to). */
export function silencedBy(silences: readonly Silence[], alert: Silenceable, at: Date): Silence[] {
  return silences.filter((s) => s.from <= at && at < s.to && silenceMatches(s, alert));
}

export function isSilenced(silences: readonly Silence[], alert: Silenceable, at: Date): boolean {
  return silencedBy(silences, alert, at).length > 0;
}
