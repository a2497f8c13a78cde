import { z } from 'zod';
import { budgetSchema, keyGrantSchema, keyIdSchema, projectSchema, tenantSchema } from '../config/index.js';
import { PertokenError } from '../errors.js';

/** Admin API bodies, validated with the same schemas as the config sections they mirror. */

export const tenantInput = tenantSchema.omit({ projects: true });
export const projectInput = projectSchema.extend({ tenant: tenantSchema.shape.id }).strict();
export const keyInput = keyGrantSchema.extend({ id: keyIdSchema.optional() }).strict();
export const rotateInput = z
  .object({
    grace_seconds: z
      .number()
      .int()
      .nonnegative()
      .max(90 * 86_400)
      .optional(),
  })
  .strict();
export const budgetInput = budgetSchema;

/** Parses a body; the first problem becomes a 400 whose `param` is the field's path. */
export function parseInput<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : null;
  throw new PertokenError('invalid_request', issue ? `${param ?? 'body'}: ${issue.message}` : 'invalid body', {
    param,
  });
}
