/** Small readers for untrusted JSON: provider bodies and client requests are `unknown` until looked at. */

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
 */
export function carve(total: number, parts: readonly number[]): { parts: number[]; rest: number } {
  let left = total;
  const out: number[] = [];
  for (const part of parts) {
    const taken = part > left ? Math.max(left, 0) : part;
    out.push(taken);
    left -= taken;
  }
  return { parts: out, rest: left };
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
