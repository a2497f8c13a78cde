/**
 * Token-length specifications shared by `estimate` and `bench`:
 *   "512"              fixed
 *   "uniform:256-1024" uniform integer in [256, 1024]
 *   "normal:512,128"   normal(mean 512, sd 128), rounded, at least 1
 *   "prompts.jsonl"    (bench --input only) prompts from a JSONL file
 */
import { PertokenError } from '../errors.js';

export type LengthSpec =
  | { kind: 'fixed'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'normal'; mean: number; sd: number }
  | { kind: 'file'; path: string };

const INT = /^-?\d+$/;
const NUM = /^-?\d+(\.\d+)?$/;

function positiveInt(text: string, param: string): number {
  if (!INT.test(text.trim()))
    throw new PertokenError('invalid_request', `expected a whole number of tokens, got "${text}"`, { param });
  const value = Number(text);
  if (value < 1) throw new PertokenError('invalid_request', `token length must be positive, got ${value}`, { param });
  return value;
}

function number(text: string, param: string): number {
  if (!NUM.test(text.trim())) throw new PertokenError('invalid_request', `expected a number, got "${text}"`, { param });
  return Number(text);
}

export function parseLengthSpec(text: string, param: string, allowFile = false): LengthSpec {
  const spec = text.trim();
  if (spec.startsWith('uniform:')) {
    const m = /^uniform:(-?\d+)-(-?\d+)$/.exec(spec);
    if (!m) throw new PertokenError('invalid_request', `expected uniform:MIN-MAX, got "${text}"`, { param });
    const min = positiveInt(m[1] ?? '', param);
    const max = positiveInt(m[2] ?? '', param);
    if (max < min) throw new PertokenError('invalid_request', `uniform range ${min}-${max} is empty`, { param });
    return { kind: 'uniform', min, max };
  }
  if (spec.startsWith('normal:')) {
    const [meanText = '', sdText = ''] = spec.slice('normal:'.length).split(',');
    const mean = number(meanText, param);
    const sd = number(sdText, param);
    if (mean < 1) throw new PertokenError('invalid_request', `normal mean must be positive, got ${mean}`, { param });
    if (sd < 0)
      throw new PertokenError('invalid_request', `normal standard deviation must not be negative, got ${sd}`, {
        param,
      });
    return { kind: 'normal', mean, sd };
  }
  if (INT.test(spec) || NUM.test(spec)) return { kind: 'fixed', value: positiveInt(spec, param) };
  if (allowFile && /\.jsonl$/i.test(spec)) return { kind: 'file', path: spec };
  throw new PertokenError(
    'invalid_request',
    `expected a token count, uniform:MIN-MAX or normal:MEAN,SD${allowFile ? ' or a .jsonl file' : ''}, got "${text}"`,
    { param },
  );
}

/** Mean length of a spec (what the steady-state estimator works with). */
export function meanLength(spec: LengthSpec, param: string): number {
  switch (spec.kind) {
    case 'fixed':
      return spec.value;
    case 'uniform':
      return (spec.min + spec.max) / 2;
    case 'normal':
      return spec.mean;
    case 'file':
      throw new PertokenError('invalid_request', 'a prompts file is only accepted by `pertoken bench --input`', {
        param,
      });
  }
}

/** Draws one length from a non-file spec. */
export function sampleLength(spec: Exclude<LengthSpec, { kind: 'file' }>, random: () => number): number {
  switch (spec.kind) {
    case 'fixed':
      return spec.value;
    case 'uniform':
      return spec.min + Math.floor(random() * (spec.max - spec.min + 1));
    case 'normal': {
      // Box-Muller; 1 - u keeps the logarithm finite.
      const u = 1 - random();
      const v = random();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      return Math.max(1, Math.round(spec.mean + spec.sd * z));
    }
  }
}
