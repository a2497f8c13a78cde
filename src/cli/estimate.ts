/**
 * `pertoken estimate`: what a model costs per token on given GPUs, from a roofline model whose
 * efficiency factors are calibrated against published measurements (docs/selfhosted.md).
 */
import { Command } from 'commander';
import { parseFormat } from '../output.js';
import {
  calibrate,
  CALIBRATION_POINTS,
  estimate,
  renderCalibration,
  renderEstimate,
  resolveEstimate,
} from '../selfhosted/index.js';
import type { EstimateFlags } from '../selfhosted/index.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';

export function estimateCommand(io: CliIo = processIo(), _env: Env = process.env): Command {
  return new Command('estimate')
    .description('roofline estimate of latency, throughput and $/1M tokens of a model on GPUs')
    .option('--model <id>', 'catalog model (e.g. llama-3.1-8b)')
    .option('--gpu <id>', 'catalog GPU (e.g. h100-sxm)')
    .option('--gpus <n>', 'number of GPUs', '1')
    .option('--tp <n>', 'tensor-parallel degree (default: all GPUs); GPUs / tp replicas')
    .option('--precision <p>', 'weight precision: fp16, bf16, fp8, int8, int4, fp4', 'bf16')
    .option('--kv-precision <p>', 'KV cache precision (default: fp8 for fp8/fp4 weights on FP8 GPUs, else 16-bit)')
    .option('--input <len>', 'input tokens: N, uniform:A-B or normal:MEAN,SD (mean used)', '1000')
    .option('--output <len>', 'output tokens: N, uniform:A-B or normal:MEAN,SD (mean used)', '1000')
    .option(
      '--concurrency <list>',
      'comma-separated concurrencies, or "max" to sweep to the memory limit',
      '1,8,64,256',
    )
    .option('--gpu-price <usd>', 'USD per GPU-hour, for $/1M tokens')
    .option('--mix <in:out>', 'input:output token mix for a blended price, e.g. 3:1')
    .option('--batching <mode>', 'continuous (default) or static', 'continuous')
    .option('--slo-ttft-ms <ms>', 'TTFT objective for max_concurrency_slo and the best point')
    .option('--slo-tpot-ms <ms>', 'TPOT objective for max_concurrency_slo and the best point')
    .option('--mem-efficiency <f>', 'share of peak HBM bandwidth achieved (default 0.8)')
    .option('--compute-efficiency <f>', 'share of peak tensor FLOPS achieved (default by precision)')
    .option('--comm-efficiency <f>', 'share of interconnect bandwidth achieved (default 0.5)')
    .option('--memory-utilization <f>', 'share of HBM for weights + KV cache (default 0.9)')
    .option('--step-overhead-ms <ms>', 'fixed cost of each forward pass (default 4)')
    .option('--request-overhead-us <us>', 'cost per request in each forward pass (default 10)')
    .option('--params-b <b>', 'total parameters, billions')
    .option('--active-params-b <b>', 'active parameters per token (MoE), billions')
    .option('--layers <n>', 'transformer layers')
    .option('--hidden-size <n>', 'hidden size')
    .option('--heads <n>', 'attention (query) heads')
    .option('--kv-heads <n>', 'KV heads')
    .option('--head-dim <n>', 'head dimension')
    .option('--experts <n>', 'routed experts per MoE layer')
    .option('--experts-per-token <n>', 'experts each token is routed to')
    .option('--kv-bytes-per-token <n>', 'override KV bytes per token (e.g. MLA)')
    .option('--hbm-gb <gb>', 'GPU memory, GB')
    .option('--bandwidth-tbs <tbs>', 'GPU memory bandwidth, TB/s')
    .option('--tflops <t>', 'dense TFLOPS at --precision')
    .option('--interconnect-gbs <gbs>', 'GPU-to-GPU bandwidth (bidirectional), GB/s')
    .option('--format <f>', 'table, json or csv', 'table')
    .option('--calibration', 'print the error against every published measurement the defaults are calibrated on')
    .action((flags: EstimateFlags & { format?: string; calibration?: boolean }) => {
      const format = parseFormat(flags.format);
      if (flags.calibration === true) {
        io.stdout.write(renderCalibration(calibrate(CALIBRATION_POINTS), format));
        return;
      }
      const { input, concurrency, slo } = resolveEstimate(flags);
      io.stdout.write(renderEstimate(estimate(input, concurrency, slo), format));
    });
}
