/**
 * A pool's capacity from the roofline estimator, for a pool declared before it could be measured:
 * the estimate's best throughput on the pool's GPUs at the traffic's mean lengths. Estimates are
 * floats by nature; the figure is written as a decimal with 3 places, like a measured one.
 */
import type { GpuPoolConfig } from '../config/index.js';
import { PertokenError } from '../errors.js';
import { estimate, resolveEstimate } from '../selfhosted/index.js';

export interface Throughput {
  output_tokens_per_s: string;
  input_tokens_per_s: string;
}

export function estimatePoolCapacity(
  pool: GpuPoolConfig,
  spec: { model: string; precision: string; input_tokens: number; output_tokens: number },
  param: string,
): Throughput {
  let best;
  try {
    const resolved = resolveEstimate({
      model: spec.model,
      gpu: pool.gpu ?? '',
      gpus: String(pool.gpus),
      precision: spec.precision,
      input: String(spec.input_tokens),
      output: String(spec.output_tokens),
      concurrency: 'max',
    });
    best = estimate(resolved.input, resolved.concurrency, resolved.slo).max_throughput;
  } catch (err) {
    if (!(err instanceof PertokenError)) throw err;
    throw new PertokenError('config_invalid', `pool "${pool.name}": ${err.message}`, { param });
  }
  if (!best || !(best.output_tokens_per_s > 0)) {
    throw new PertokenError(
      'config_invalid',
      `pool "${pool.name}": ${spec.model} does not fit on ${pool.gpus} x ${pool.gpu}`,
      {
        param,
      },
    );
  }
  const output = best.output_tokens_per_s;
  return {
    output_tokens_per_s: output.toFixed(3),
    input_tokens_per_s: ((output * spec.input_tokens) / spec.output_tokens).toFixed(3),
  };
}
