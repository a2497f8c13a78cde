import { PertokenError } from '../../errors.js';
import type { GpuSpec, ModelSpec } from '../types.js';
import { GPUS } from './gpus.js';
import { MODELS } from './models.js';

export { GPUS } from './gpus.js';
export { MODELS } from './models.js';
export { CALIBRATION_POINTS } from './calibration.js';

const norm = (s: string): string => s.trim().toLowerCase();

function lookup<T extends { id: string; aliases?: string[] }>(items: readonly T[], id: string): T | undefined {
  const key = norm(id);
  return items.find((item) => item.id === key || (item.aliases ?? []).some((a) => norm(a) === key));
}

export function findGpu(id: string): GpuSpec | undefined {
  return lookup(GPUS, id);
}

export function findModel(id: string): ModelSpec | undefined {
  return lookup(MODELS, id);
}

/**
 * A catalog model for a served model name, e.g. "meta-llama/Llama-3.1-8B-Instruct" or
 * "llama-3.1-8b": the org prefix and an -instruct/-chat suffix are ignored.
 */
export function matchModel(served: string): ModelSpec | undefined {
  const base = norm(served).split('/').pop() ?? '';
  const candidates = [
    base,
    base.replace(/-(instruct|chat|it)$/, ''),
    base.replace(/^meta-/, '').replace(/-(instruct|chat|it)$/, ''),
  ];
  for (const c of candidates) {
    const found = findModel(c);
    if (found) return found;
  }
  return undefined;
}

/** Catalog GPU or a one-line error that lists the known ids. */
export function requireGpu(id: string, param = '--gpu'): GpuSpec {
  const gpu = findGpu(id);
  if (!gpu) {
    throw new PertokenError('invalid_request', `unknown GPU "${id}"; known: ${GPUS.map((g) => g.id).join(', ')}`, {
      param,
    });
  }
  return gpu;
}

/** Catalog model or a one-line error that lists the known ids. */
export function requireModel(id: string, param = '--model'): ModelSpec {
  const model = findModel(id);
  if (!model) {
    throw new PertokenError('invalid_request', `unknown model "${id}"; known: ${MODELS.map((m) => m.id).join(', ')}`, {
      param,
    });
  }
  return model;
}
