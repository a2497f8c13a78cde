/** Small readers for untrusted JSON: provider bodies and client requests are `unknown` until looked at. */

import { priceableCount } from '../usage/index.js';

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function recordOrEmpty(value: unknown): JsonObject {
  return isRecord(value) ? value : {};
}

export function arrayOrEmpty(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/**
 * A count as the provider sent it; a missing or non-numeric field counts 0 (checkUsage reports the
 * latter). Bad numbers (negative, fractional) pass through so that checkUsage can report them.
 */
export function count(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/**
 * Splits `total` into the given parts and the rest, each part capped at what is left, so the parts
 * and the rest always add up to the provider's total even when its details overshoot it (the total
 * is what is billed; the overshoot is reported by checkUsage).
 *
 * The split is done on the counts that will be billed (priceableCount): a negative or fractional
 * part is returned as sent, for checkUsage to report, but only its billed count leaves the rest —
 * `cached_tokens: -1` used to bill one token more than `prompt_tokens`, `thinking_tokens: 0.5` of
 * `output_tokens: 1` billed two. Likewise a total that bills nothing (negative, infinite, beyond
 * 2^53) leaves nothing to its parts.
 */
export function carve(total: number, parts: readonly number[]): { parts: number[]; rest: number } {
  let room = priceableCount(total);
  let taken = 0;
  const out: number[] = [];
  for (const part of parts) {
    const billed = priceableCount(part);
    if (billed > room) {
      out.push(room);
      taken += room;
      room = 0;
    } else {
      out.push(part);
      taken += billed;
      room -= billed;
    }
  }
  return { parts: out, rest: total - taken };
}

/** Gathers prompt or output text for estimation, and whether non-text parts were seen. */
export class TextCollector {
  readonly #parts: string[] = [];
  nonText = false;

  add(value: unknown): void {
    if (typeof value === 'string' && value.length > 0) this.#parts.push(value);
  }

  /** Tool schemas and tool-call arguments count as prompt tokens; their JSON is a fair proxy. */
  addJson(value: unknown): void {
    if (value === undefined || value === null) return;
    if (typeof value === 'string') this.add(value);
    else this.add(JSON.stringify(value));
  }

  text(): string {
    return this.#parts.join('\n');
  }
}
