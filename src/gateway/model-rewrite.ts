import { PertokenError } from '../errors.js';

/**
 * The body sent upstream with another `model` (an alias target, a fallback or a downgrade). Every
 * wire carries the model as a top-level field; the rest of the body is kept as it is.
 */
export function withModel(body: Buffer, model: string): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new PertokenError('internal', 'prepared body is not JSON', { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new PertokenError('internal', 'prepared body is not a JSON object');
  return Buffer.from(JSON.stringify({ ...(parsed as Record<string, unknown>), model }));
}
