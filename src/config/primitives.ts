/** Field schemas shared by every config section: names, ids, dates and exact decimal amounts. */
import { z } from 'zod';
import { CONFIG_NAME, DIMENSION_ID, idSchema } from '../ids.js';

/** Names that appear in routes, metrics and price_ref: short and predictable. */
export const name = idSchema(CONFIG_NAME);

/** Tenant and project ids travel in attribution headers: the same character set. */
export const dimId = idSchema(DIMENSION_ID);

export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

/** A day (`2026-10-01`, UTC midnight) or an instant with its offset (`2026-10-01T12:00:00Z`). */
export const dayOrInstant = z.union([isoDate, z.iso.datetime({ offset: true })]);

export const priceValue = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?$/)]);

/** Optional USD-per-1M prices for the given buckets: `{input: 2.5, output: 10, ...}`. */
export function bucketPrices<const B extends string>(
  buckets: readonly B[],
): Record<B, z.ZodOptional<typeof priceValue>> {
  return Object.fromEntries(buckets.map((b) => [b, priceValue.optional()])) as Record<
    B,
    z.ZodOptional<typeof priceValue>
  >;
}

/**
 * A non-negative exact decimal, written as a string ("2.99") or a YAML number (read through its
 * shortest decimal form, so 2.99 stays 2.99); always a string after parsing, never a float.
 */
export const decimal = z
  .union([z.string(), z.number().nonnegative()])
  .transform((v) => String(v))
  .pipe(z.string().regex(/^\d{1,12}(\.\d{1,12})?$/, 'a non-negative decimal number like "2.99"'));

/** USD as a decimal string ("1.00"); a YAML number is read through its shortest decimal form. */
export const usd = z
  .union([z.string(), z.number().nonnegative()])
  .transform((v) => String(v))
  .pipe(
    z.string().regex(/^\d{1,7}(\.\d{1,9})?$/, 'a USD amount like "100" or "0.25" (up to 9 decimals, below 10,000,000)'),
  );

/** Flags every item whose `key` repeats an earlier one's, at `path.i.field`: "duplicate <what> "x"". */
export function checkUnique<T>(
  ctx: z.RefinementCtx,
  items: readonly T[],
  path: readonly PropertyKey[],
  field: keyof T & string,
  what: string,
): void {
  const seen = new Set<unknown>();
  items.forEach((item, i) => {
    const value = item[field];
    if (seen.has(value))
      ctx.addIssue({ code: 'custom', path: [...path, i, field], message: `duplicate ${what} "${String(value)}"` });
    seen.add(value);
  });
}
