/**
 * One FOCUS export in a process of its own (focus.mjs runs it), so that its peak RSS is its own:
 * argv = ledger path, window start (ISO), window end (ISO). Prints one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { AttributionService } from '../../dist/attribution/index.js';
import { parseConfig } from '../../dist/config/index.js';
import { createSqliteStore } from '../../dist/ledger/index.js';
import { createPriceBook } from '../../dist/pricing/index.js';

const [path, from, to] = process.argv.slice(2);
const config = parseConfig({
  gpu_pools: [
    {
      name: 'bench-pool',
      gpus: 8,
      rates: [{ from: '2026-01-01', usd_per_gpu_hour: '2.99', pricing: 'reserved' }],
      serves: ['seed-vllm'],
      capacity: { output_tokens_per_s: 12000, input_tokens_per_s: 90000 },
      idle: 'weighted',
    },
  ],
  shared_costs: [{ name: 'observability', usd: 1200, from: '2026-01-01', allocate: 'by_cost' }],
});
const store = createSqliteStore({ path, checkpoint: 'inline' });
await store.migrate();
const service = new AttributionService({
  store,
  priceBook: createPriceBook(),
  pools: config.gpu_pools,
  sharedCosts: config.shared_costs,
  plans: [],
});
const started = performance.now();
let bytes = 0;
let rows = -1;
let peakHeap = 0;
/** Live heap: what is left after a full GC (run with --expose-gc), sampled every 100 chunks. */
let peakLiveHeap = 0;
let chunks = 0;
const collect = globalThis.gc;
for await (const chunk of await service.focus({ from: new Date(from), to: new Date(to) })) {
  bytes += Buffer.byteLength(chunk);
  for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) rows++;
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  if (collect && ++chunks % 100 === 0) {
    collect();
    peakLiveHeap = Math.max(peakLiveHeap, process.memoryUsage().heapUsed);
  }
}
const ms = performance.now() - started;
await store.close();
process.stdout.write(
  JSON.stringify({
    rows,
    bytes,
    ms,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    peakHeapMb: peakHeap / 2 ** 20,
    peakLiveHeapMb: peakLiveHeap / 2 ** 20,
  }) + '\n',
);
