import type { CalibrationPoint, Precision } from '../types.js';

/**
 * Published measurements the default efficiency factors are calibrated and checked against
 * (src/selfhosted/calibration.test.ts computes the estimator's error on every point).
 * Tables are transcribed as published; each point carries its source. Values are for the whole
 * deployment (per-GPU tables are multiplied by the GPU count).
 *
 * Left out on purpose: rows whose deployment the estimator does not model (expert parallelism or
 * attention data parallelism: Llama 4 and Qwen3-235B in the TensorRT-LLM tables; pipeline
 * parallelism: the RTX 6000 tables) and GPUs absent from the catalog (GB200, RTX 6000).
 */

const TRTLLM_V09 = 'https://github.com/NVIDIA/TensorRT-LLM/blob/v0.9.0/docs/source/performance.md';
const TRTLLM_V10 = [
  'https://nvidia.github.io/TensorRT-LLM/performance/perf-overview.html',
  'https://github.com/NVIDIA/TensorRT-LLM/blob/00f37686aa854010d68bcbd0f4ab000221541ca6/docs/source/performance/perf-overview.md',
];
const TRTLLM_DEV_GUIDE = [
  'https://nvidia.github.io/TensorRT-LLM/developer-guide/perf-overview.html',
  'https://github.com/NVIDIA/TensorRT-LLM/blob/03e27c7d5ff0c6e89f8328838c0a8e64f1b34f9d/docs/source/developer-guide/perf-overview.md',
];
const NIM_LLM = 'https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance';
const OCI_MI300X =
  'https://blogs.oracle.com/cloud-infrastructure/post/serving-llama-31-405b-model-with-amd-mi300x-gpus';

// --- TensorRT-LLM v0.9.0 "Peak Throughput": static batches (gptSessionBenchmark), out tok/s/GPU.
// [model, batch, tp, input, output, tokens/s per GPU]
type StaticRow = [string, number, number, number, number, number];

const V09: Record<string, { precision: Precision; kv: Precision; rows: StaticRow[] }> = {
  h200: {
    precision: 'fp8',
    kv: 'fp8',
    rows: [
      ['gpt-j-6b', 1024, 1, 128, 128, 27304],
      ['gpt-j-6b', 120, 1, 128, 2048, 8530],
      ['gpt-j-6b', 64, 1, 2048, 128, 2785],
      ['gpt-j-6b', 64, 1, 2048, 2048, 3753],
      ['mistral-7b', 896, 1, 128, 128, 20460],
      ['mistral-7b', 120, 1, 128, 2048, 8950],
      ['mistral-7b', 64, 1, 2048, 128, 2423],
      ['mistral-7b', 56, 1, 2048, 2048, 3867],
      ['mixtral-8x7b', 1024, 2, 128, 128, 5444],
      ['mixtral-8x7b', 256, 2, 128, 2048, 4973],
      ['mixtral-8x7b', 64, 2, 2048, 128, 605],
      ['mixtral-8x7b', 64, 2, 2048, 2048, 1821],
      ['llama-2-7b', 896, 1, 128, 128, 20618],
      ['llama-2-7b', 120, 1, 128, 2048, 8348],
      ['llama-2-7b', 64, 1, 2048, 128, 2391],
      ['llama-2-7b', 56, 1, 2048, 2048, 3522],
      ['llama-2-70b', 1024, 1, 128, 128, 3989],
      ['llama-2-70b', 512, 2, 128, 2048, 3963],
      ['llama-2-70b', 64, 1, 2048, 128, 418],
      ['llama-2-70b', 64, 1, 2048, 2048, 1458],
      ['falcon-180b', 1024, 4, 128, 128, 1118],
      ['falcon-180b', 1024, 4, 128, 2048, 990],
      ['falcon-180b', 64, 4, 2048, 128, 118],
      ['falcon-180b', 64, 4, 2048, 2048, 265],
    ],
  },
  'h100-sxm': {
    precision: 'fp8',
    kv: 'fp8',
    rows: [
      ['gpt-j-6b', 1024, 1, 128, 128, 25860],
      ['gpt-j-6b', 120, 1, 128, 2048, 7350],
      ['gpt-j-6b', 64, 1, 2048, 128, 2570],
      ['gpt-j-6b', 64, 1, 2048, 2048, 3212],
      ['mistral-7b', 896, 1, 128, 128, 20404],
      ['mistral-7b', 120, 1, 128, 2048, 8623],
      ['mistral-7b', 84, 1, 2048, 128, 2405],
      ['mistral-7b', 56, 1, 2048, 2048, 3731],
      ['mixtral-8x7b', 512, 2, 128, 128, 5255],
      ['mixtral-8x7b', 128, 2, 128, 2048, 3408],
      ['mixtral-8x7b', 64, 2, 2048, 128, 588],
      ['mixtral-8x7b', 32, 2, 2048, 2048, 1317],
      ['llama-2-7b', 896, 1, 128, 128, 19854],
      ['llama-2-7b', 120, 1, 128, 2048, 6944],
      ['llama-2-7b', 84, 1, 2048, 128, 2163],
      ['llama-2-7b', 56, 1, 2048, 2048, 2826],
      ['llama-2-70b', 1024, 2, 128, 128, 3214],
      ['llama-2-70b', 512, 4, 128, 2048, 2725],
      ['llama-2-70b', 96, 2, 2048, 128, 346],
      ['llama-2-70b', 64, 2, 2048, 2048, 1011],
      ['falcon-180b', 1024, 4, 128, 128, 1100],
      ['falcon-180b', 1024, 8, 128, 2048, 837],
      ['falcon-180b', 64, 4, 2048, 128, 112],
      ['falcon-180b', 64, 4, 2048, 2048, 246],
    ],
  },
  l40s: {
    precision: 'fp8',
    kv: 'fp8',
    rows: [
      ['gpt-j-6b', 512, 1, 128, 128, 7859],
      ['gpt-j-6b', 64, 1, 128, 2048, 1904],
      ['gpt-j-6b', 32, 1, 2048, 128, 684],
      ['gpt-j-6b', 32, 1, 2048, 2048, 768],
      ['mistral-7b', 896, 1, 128, 128, 9562],
      ['mistral-7b', 120, 1, 128, 2048, 4387],
      ['mistral-7b', 84, 1, 2048, 128, 971],
      ['mistral-7b', 56, 1, 2048, 2048, 1721],
      ['mixtral-8x7b', 256, 4, 128, 128, 1266],
      ['mixtral-8x7b', 256, 4, 128, 2048, 1490],
      ['mixtral-8x7b', 64, 4, 2048, 128, 155],
      ['mixtral-8x7b', 32, 4, 2048, 2048, 412],
      ['llama-2-7b', 256, 1, 128, 128, 5885],
      ['llama-2-7b', 64, 1, 128, 2048, 1654],
      ['llama-2-7b', 32, 1, 2048, 128, 574],
      ['llama-2-7b', 16, 1, 2048, 2048, 537],
      ['llama-2-70b', 256, 2, 128, 128, 562],
      ['llama-2-70b', 256, 4, 128, 2048, 478],
      ['llama-2-70b', 16, 2, 2048, 128, 49],
      ['llama-2-70b', 64, 4, 2048, 2048, 185],
      ['falcon-180b', 512, 8, 128, 128, 152],
      ['falcon-180b', 256, 8, 128, 2048, 200],
      ['falcon-180b', 32, 8, 2048, 128, 15],
      ['falcon-180b', 32, 8, 2048, 2048, 52],
    ],
  },
  'a100-80gb': {
    precision: 'fp16',
    kv: 'fp16',
    rows: [
      ['gpt-j-6b', 512, 1, 128, 128, 5876],
      ['gpt-j-6b', 32, 1, 128, 2048, 1549],
      ['gpt-j-6b', 32, 1, 2048, 128, 545],
      ['gpt-j-6b', 32, 1, 2048, 2048, 815],
      ['mistral-7b', 896, 1, 128, 128, 6251],
      ['mistral-7b', 120, 1, 128, 2048, 3776],
      ['mistral-7b', 64, 1, 2048, 128, 698],
      ['mistral-7b', 56, 1, 2048, 2048, 1576],
      ['mixtral-8x7b', 512, 2, 128, 128, 2842],
      ['mixtral-8x7b', 128, 2, 128, 2048, 1724],
      ['mixtral-8x7b', 64, 2, 2048, 128, 319],
      ['mixtral-8x7b', 32, 2, 2048, 2048, 801],
      ['llama-2-7b', 256, 1, 128, 128, 5390],
      ['llama-2-7b', 32, 1, 128, 2048, 1484],
      ['llama-2-7b', 32, 1, 2048, 128, 533],
      ['llama-2-7b', 16, 1, 2048, 2048, 603],
      ['llama-2-70b', 1024, 4, 128, 128, 686],
      ['llama-2-70b', 512, 8, 128, 2048, 684],
      ['llama-2-70b', 96, 4, 2048, 128, 80],
      ['llama-2-70b', 64, 4, 2048, 2048, 289],
      ['falcon-180b', 1024, 8, 128, 128, 254],
      ['falcon-180b', 512, 8, 128, 2048, 266],
      ['falcon-180b', 64, 8, 2048, 128, 29],
      ['falcon-180b', 64, 8, 2048, 2048, 93],
    ],
  },
};

// --- TensorRT-LLM perf overviews, in-flight batching at maximum load (trtllm-bench, PyTorch
// backend). v1.0 publishes total output tokens/s; the late-2025 developer guide publishes per GPU.
const V10_SHAPES: Array<[number, number]> = [
  [128, 128],
  [128, 2048],
  [128, 4096],
  [500, 2000],
  [1000, 1000],
  [1000, 2000],
  [2048, 128],
  [2048, 2048],
  [5000, 500],
  [20000, 2000],
];
const DEV_GUIDE_SHAPES: Array<[number, number]> = [
  [1000, 1000],
  [1024, 1024],
  [1024, 8192],
  [8192, 1024],
  [32768, 1024],
];
const QWEN3_30B_SHAPES: Array<[number, number]> = [
  [1000, 1000],
  [1024, 1024],
  [1024, 8192],
  [1024, 32768],
  [8192, 1024],
  [32768, 1024],
];

interface MaxTable {
  release: string;
  sources: string[];
  perGpu: boolean;
  model: string;
  shapes: Array<[number, number]>;
  columns: Array<{ gpu: string; tp: number; precision: Precision; values: Array<number | null> }>;
}

const v10 = (model: string, columns: MaxTable['columns']): MaxTable => ({
  release: 'trtllm-1.0',
  sources: TRTLLM_V10,
  perGpu: false,
  model,
  shapes: V10_SHAPES,
  columns,
});
const devGuide = (model: string, shapes: Array<[number, number]>, columns: MaxTable['columns']): MaxTable => ({
  release: 'trtllm-devguide',
  sources: TRTLLM_DEV_GUIDE,
  perGpu: true,
  model,
  shapes,
  columns,
});

const MAX_TABLES: MaxTable[] = [
  v10('llama-3.1-8b', [
    {
      gpu: 'h200',
      tp: 1,
      precision: 'fp8',
      values: [27911, 26221, 18027, 20770, 17744, 16828, 3538, 12194, 3902, 1804],
    },
    {
      gpu: 'h100-sxm',
      tp: 1,
      precision: 'fp8',
      values: [28312, 22714, 14325, 17660, 15220, 13899, 3450, 9305, 3459, 1351],
    },
  ]),
  v10('llama-3.1-70b', [
    { gpu: 'b200', tp: 1, precision: 'fp4', values: [11147, 9922, 6831, 7762, 7007, 6271, 1339, 4783, 1459, 665] },
    { gpu: 'h200', tp: 1, precision: 'fp8', values: [3803, 4336, 2872, 3666, 2909, 2994, 442, 2003, 566, 283] },
    { gpu: 'h100-sxm', tp: 2, precision: 'fp8', values: [6378, 6651, 4199, 5222, 4205, 4146, 762, 3082, 898, 437] },
  ]),
  v10('llama-3.1-405b', [
    { gpu: 'b200', tp: 4, precision: 'fp4', values: [6281, 8020, 6345, 6244, 5209, 4933, 749, 4212, 1048, 672] },
    { gpu: 'h200', tp: 8, precision: 'fp8', values: [3814, 5348, 4741, 4724, 3330, 3722, 456, 2948, 650, 505] },
    { gpu: 'h100-sxm', tp: 8, precision: 'fp8', values: [3627, 4340, 3116, 3994, 2919, 2895, 453, 2296, 610, 345] },
  ]),
  v10('qwen3-30b-a3b', [
    {
      gpu: 'b200',
      tp: 1,
      precision: 'fp4',
      values: [39827, 37844, 24953, 27817, 25828, 22051, 6251, 17554, 6142, 2944],
    },
  ]),
  devGuide('llama-3.1-70b', DEV_GUIDE_SHAPES, [
    { gpu: 'b200', tp: 1, precision: 'fp4', values: [6920, 6842, 3242, 1362, 274] },
    { gpu: 'h200', tp: 2, precision: 'fp8', values: [2587, 2582, 2009, 537, 120] },
    { gpu: 'h100-sxm', tp: 2, precision: 'fp8', values: [2209, null, null, 398, null] },
  ]),
  devGuide('qwen3-30b-a3b', QWEN3_30B_SHAPES, [
    { gpu: 'b200', tp: 1, precision: 'fp4', values: [26971, 26611, 13497, 4494, 5735, 1265] },
  ]),
];

function v09Points(): CalibrationPoint[] {
  const out: CalibrationPoint[] = [];
  for (const [gpu, table] of Object.entries(V09)) {
    for (const [model, batch, tp, input, output, perGpu] of table.rows) {
      out.push({
        id: `trtllm-0.9/${gpu}/${model}/tp${tp}/bs${batch}/${input}-${output}`,
        model,
        gpu,
        gpus: tp,
        tp,
        precision: table.precision,
        kv_precision: table.kv,
        input_tokens: input,
        output_tokens: output,
        concurrency: batch,
        batching: 'static',
        engine: 'TensorRT-LLM 0.9.0',
        metric: 'output_tokens_per_s',
        value: perGpu * tp,
        sources: [TRTLLM_V09],
      });
    }
  }
  return out;
}

function maxThroughputPoints(): CalibrationPoint[] {
  const out: CalibrationPoint[] = [];
  for (const table of MAX_TABLES) {
    for (const column of table.columns) {
      column.values.forEach((value, i) => {
        const shape = table.shapes[i];
        if (value === null || shape === undefined) return;
        const [input, output] = shape;
        out.push({
          id: `${table.release}/${column.gpu}/${table.model}/tp${column.tp}/${column.precision}/${input}-${output}`,
          model: table.model,
          gpu: column.gpu,
          gpus: column.tp,
          tp: column.tp,
          precision: column.precision,
          // ModelOpt FP8 and NVFP4 checkpoints ship an FP8 KV cache.
          kv_precision: 'fp8',
          input_tokens: input,
          output_tokens: output,
          concurrency: 'max',
          batching: 'continuous',
          engine: `TensorRT-LLM (${table.release}, trtllm-bench)`,
          metric: 'output_tokens_per_s',
          value: table.perGpu ? value * column.tp : value,
          sources: table.sources,
        });
      });
    }
  }
  return out;
}

const nim = (
  id: string,
  input: number,
  output: number,
  concurrency: number,
  metric: CalibrationPoint['metric'],
  value: number,
): CalibrationPoint => ({
  id: `nim-1.8/h100-sxm/llama-3.3-70b/tp2/${input}-${output}/c${concurrency}/${metric}`,
  model: 'llama-3.1-70b',
  gpu: 'h100-sxm',
  gpus: 2,
  tp: 2,
  precision: 'fp8',
  kv_precision: 'fp8',
  input_tokens: input,
  output_tokens: output,
  concurrency,
  batching: 'continuous',
  engine: `NIM 1.8.0 (${id})`,
  metric,
  value,
  sources: [NIM_LLM],
});

// NIM closed-loop sweeps (AIPerf): only the points below the server's batch limit (past it,
// requests queue and TTFT explodes, which no steady-state model claims to predict).
const NIM_POINTS: CalibrationPoint[] = [
  nim('llama-3.3-70b-instruct', 5000, 500, 1, 'output_tokens_per_s', 51.67),
  nim('llama-3.3-70b-instruct', 5000, 500, 5, 'output_tokens_per_s', 218.48),
  nim('llama-3.3-70b-instruct', 5000, 500, 25, 'output_tokens_per_s', 623.4),
  nim('llama-3.3-70b-instruct', 5000, 500, 50, 'output_tokens_per_s', 814.37),
  nim('llama-3.3-70b-instruct', 5000, 500, 1, 'tpot_ms', 18.58),
  nim('llama-3.3-70b-instruct', 5000, 500, 1, 'ttft_ms', 406.77),
  nim('llama-3.3-70b-instruct', 500, 2000, 1, 'output_tokens_per_s', 52.85),
  nim('llama-3.3-70b-instruct', 500, 2000, 1, 'tpot_ms', 18.91),
];

const oci = (
  suffix: string,
  input: number,
  output: number,
  concurrency: number | 'max',
  batching: CalibrationPoint['batching'],
  value: number,
): CalibrationPoint => ({
  id: `vllm-oci/mi300x/llama-3.1-405b/tp8/${suffix}`,
  model: 'llama-3.1-405b',
  gpu: 'mi300x',
  gpus: 8,
  tp: 8,
  precision: 'fp8',
  kv_precision: 'fp8',
  input_tokens: input,
  output_tokens: output,
  concurrency,
  batching,
  engine: 'vLLM (ROCm, Oct 2024)',
  metric: 'output_tokens_per_s',
  value,
  sources: [OCI_MI300X],
});

// Oracle on 8 x MI300X with vLLM: benchmark_latency runs one static batch; benchmark_throughput
// ran with vLLM's then-default cap of 256 sequences in flight.
const OCI_POINTS: CalibrationPoint[] = [
  oci('bs1/128-128', 128, 128, 1, 'static', 36),
  oci('bs8/128-128', 128, 128, 8, 'static', 258),
  oci('bs64/128-128', 128, 128, 64, 'static', 1184),
  oci('bs256/128-128', 128, 128, 256, 'static', 1846),
  oci('throughput/128-128', 128, 128, 256, 'continuous', 1993),
  oci('throughput/128-2048', 128, 2048, 256, 'continuous', 2794),
];

// vLLM nightly CI (H200, bf16 weights): benchmark_latency runs one static batch of 8 requests of 32
// input and 128 output tokens; published as mean end-to-end latency of the batch, here as
// output tokens/s = 8 × 128 / latency.
const VLLM_CI = 'https://buildkite.com/vllm/performance-benchmark/builds/9515';
const vllmLatency = (model: string, tp: number, latencyMs: number): CalibrationPoint => ({
  id: `vllm-ci/h200/${model}/tp${tp}/bs8/32-128`,
  model,
  gpu: 'h200',
  gpus: tp,
  tp,
  precision: 'bf16',
  kv_precision: 'bf16',
  input_tokens: 32,
  output_tokens: 128,
  concurrency: 8,
  batching: 'static',
  engine: 'vLLM nightly CI',
  metric: 'output_tokens_per_s',
  value: Math.round(((8 * 128) / (latencyMs / 1000)) * 100) / 100,
  sources: [VLLM_CI],
});
const VLLM_POINTS: CalibrationPoint[] = [
  vllmLatency('llama-3.1-8b', 1, 833.421),
  vllmLatency('llama-3.1-70b', 4, 2077.53),
  vllmLatency('mixtral-8x7b', 2, 1917.44),
];

export const CALIBRATION_POINTS: readonly CalibrationPoint[] = [
  ...v09Points(),
  ...maxThroughputPoints(),
  ...NIM_POINTS,
  ...OCI_POINTS,
  ...VLLM_POINTS,
];
