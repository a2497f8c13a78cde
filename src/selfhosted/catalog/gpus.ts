import type { GpuSpec } from '../types.js';

/**
 * GPU catalog: vendor peak figures, DENSE tensor throughput (datasheets often print the 2:4-sparse
 * number, which is twice as large: those were halved here). Edit freely; every entry names its
 * sources. `interconnect_gbs` is the published per-GPU figure (bidirectional total); the
 * estimator uses half of it per direction. `allreduce_latency_us` is a modelling constant, not a
 * datasheet figure: small-message NCCL/RCCL all-reduce latency, ~16-24 us over NVLink or Infinity
 * Fabric, more through PCIe.
 */
export const GPUS: readonly GpuSpec[] = [
  {
    id: 'h100-sxm',
    name: 'NVIDIA H100 SXM5 80GB',
    hbm_gb: 80,
    bandwidth_tbs: 3.35,
    tflops: { fp16: 989.5, bf16: 989.5, fp8: 1979, int8: 1979 },
    interconnect_gbs: 900,
    allreduce_latency_us: 16,
    sources: [
      'https://www.nvidia.com/en-us/data-center/h100/',
      'https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet',
    ],
  },
  {
    id: 'h100-pcie',
    name: 'NVIDIA H100 PCIe 80GB',
    hbm_gb: 80,
    bandwidth_tbs: 2.0,
    tflops: { fp16: 756.5, bf16: 756.5, fp8: 1513, int8: 1513 },
    interconnect_gbs: 128,
    allreduce_latency_us: 50,
    sources: ['https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet'],
    notes: 'PCIe Gen5 x16 between cards; an optional NVLink bridge (600 GB/s) joins pairs only.',
  },
  {
    id: 'h200',
    name: 'NVIDIA H200 SXM 141GB',
    hbm_gb: 141,
    bandwidth_tbs: 4.8,
    tflops: { fp16: 989.5, bf16: 989.5, fp8: 1979, int8: 1979 },
    interconnect_gbs: 900,
    allreduce_latency_us: 16,
    sources: ['https://www.nvidia.com/en-us/data-center/h200/'],
  },
  {
    id: 'b200',
    name: 'NVIDIA B200 180GB (HGX/DGX B200)',
    hbm_gb: 180,
    bandwidth_tbs: 8.0,
    tflops: { fp16: 2250, bf16: 2250, fp8: 4500, int8: 4500, fp4: 9000 },
    interconnect_gbs: 1800,
    allreduce_latency_us: 16,
    sources: ['https://www.nvidia.com/en-us/data-center/hgx/', 'https://www.nvidia.com/en-us/data-center/dgx-b200/'],
    notes: 'HGX B200 8-GPU totals divided by 8 (1.44 TB, 64 TB/s, 72 PF FP8 sparse).',
  },
  {
    id: 'a100-40gb',
    name: 'NVIDIA A100 SXM4 40GB',
    hbm_gb: 40,
    bandwidth_tbs: 1.555,
    tflops: { fp16: 312, bf16: 312, int8: 624 },
    interconnect_gbs: 600,
    allreduce_latency_us: 20,
    sources: [
      'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
    ],
  },
  {
    id: 'a100-80gb',
    name: 'NVIDIA A100 SXM4 80GB',
    aliases: ['a100'],
    hbm_gb: 80,
    bandwidth_tbs: 2.039,
    tflops: { fp16: 312, bf16: 312, int8: 624 },
    interconnect_gbs: 600,
    allreduce_latency_us: 20,
    sources: [
      'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
    ],
  },
  {
    id: 'l40s',
    name: 'NVIDIA L40S 48GB',
    hbm_gb: 48,
    bandwidth_tbs: 0.864,
    tflops: { fp16: 366, bf16: 366, fp8: 733, int8: 733 },
    interconnect_gbs: 64,
    allreduce_latency_us: 50,
    sources: ['https://www.nvidia.com/en-us/data-center/l40s/'],
    notes: 'GDDR6, no NVLink: tensor parallelism goes through PCIe Gen4.',
  },
  {
    id: 'l4',
    name: 'NVIDIA L4 24GB',
    hbm_gb: 24,
    bandwidth_tbs: 0.3,
    tflops: { fp16: 121, bf16: 121, fp8: 242.5, int8: 242.5 },
    interconnect_gbs: 64,
    allreduce_latency_us: 50,
    sources: ['https://www.nvidia.com/en-us/data-center/l4/'],
  },
  {
    id: 'a10g',
    name: 'NVIDIA A10G 24GB (AWS G5)',
    hbm_gb: 24,
    bandwidth_tbs: 0.6,
    tflops: { fp16: 70, bf16: 70, int8: 140 },
    interconnect_gbs: 64,
    allreduce_latency_us: 50,
    sources: [
      'https://aws.amazon.com/ec2/instance-types/g5/',
      'https://www.baseten.co/blog/nvidia-a10-vs-a10g-for-ml-model-inference/',
    ],
    notes: 'AWS variant of the A10 with lower tensor throughput (A10: 125 TFLOPS fp16 dense).',
  },
  {
    id: 'mi300x',
    name: 'AMD Instinct MI300X 192GB',
    hbm_gb: 192,
    bandwidth_tbs: 5.3,
    tflops: { fp16: 1307.4, bf16: 1307.4, fp8: 2614.9, int8: 2614.9 },
    interconnect_gbs: 896,
    allreduce_latency_us: 24,
    sources: [
      'https://www.amd.com/en/products/accelerators/instinct/mi300/mi300x.html',
      'https://www.amd.com/content/dam/amd/en/documents/instinct-tech-docs/data-sheets/amd-instinct-mi300x-data-sheet.pdf',
    ],
    notes: 'Infinity Fabric: 7 links x 128 GB/s to the other GPUs of an 8-GPU platform.',
  },
];
