/**
 * `pertoken bench`: a load generator for any OpenAI-compatible endpoint. Results go to stdout;
 * progress (a bar, only on a terminal) and notes go to stderr.
 */
import { writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { Command } from 'commander';
import { PertokenError } from '../errors.js';
import { parseFormat } from '../output.js';
import {
  estimateCurve,
  paretoSvg,
  poolFromRun,
  poolPricePerMTok,
  poolsPath,
  renderBench,
  resolveBench,
  resolveDataDir,
  runBench,
  savePool,
} from '../selfhosted/index.js';
import type { BenchFlags, BenchRun, Progress, Series } from '../selfhosted/index.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';

interface BenchCliFlags extends BenchFlags {
  format?: string;
  plot?: string;
  savePool?: string;
  dataDir?: string;
}

/** A one-line progress bar redrawn in place. */
function progressBar(stream: Writable): (p: Progress) => void {
  return (p) => {
    const byCount = p.done / Math.max(p.total, 1);
    const byTime = p.durationMs === null ? 0 : p.elapsedMs / p.durationMs;
    const share = Math.min(1, Math.max(byCount, byTime));
    const width = 30;
    const filled = Math.round(share * width);
    stream.write(
      `\r${p.label.padEnd(18)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${(p.elapsedMs / 1000).toFixed(1)}s `,
    );
  };
}

function plotSeries(flags: BenchCliFlags, run: BenchRun, io: CliIo): Series[] {
  const gpus = Number(flags.gpus ?? '1');
  const measured: Series = {
    name: 'measured',
    color: '#1f77b4',
    points: run.report.points.flatMap((p) =>
      p.tpot_ms.p50 === null || p.tpot_ms.p50 <= 0
        ? []
        : [
            {
              perUser: 1000 / p.tpot_ms.p50,
              perGpu: p.output_tokens_per_s / gpus,
              label: p.concurrency !== undefined ? `concurrency ${p.concurrency}` : `rate ${p.rate ?? 0}/s`,
            },
          ],
    ),
  };
  const curve = estimateCurve(flags, run);
  if ('reason' in curve) {
    if (flags.gpu !== undefined) io.stderr.write(`note: no estimator curve on the plot: ${curve.reason}\n`);
    return [measured];
  }
  return [
    measured,
    {
      name: `estimate (${flags.gpus ?? '1'} x ${flags.gpu ?? ''})`,
      color: '#d62728',
      dashed: true,
      points: curve.points,
    },
  ];
}

export function benchCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  return new Command('bench')
    .description('load-test an OpenAI-compatible endpoint: TTFT, ITL, TPOT, E2E, throughput, goodput and $/1M tokens')
    .option('--url <url>', 'OpenAI-compatible base URL, e.g. http://localhost:8000/v1')
    .option('--model <name>', 'model name to request')
    .option('--api-key <key>', 'bearer token (default: $OPENAI_API_KEY)')
    .option('--input <len>', 'prompt tokens: N, uniform:A-B, normal:MEAN,SD or a prompts .jsonl file', '512')
    .option('--output <len>', 'output tokens (max_tokens): N, uniform:A-B or normal:MEAN,SD', '256')
    .option('--concurrency <list>', 'closed-loop concurrencies, e.g. 1,4,16 (default)')
    .option('--rate <list>', 'open-loop Poisson request rates per second, e.g. 2,4,8')
    .option('--requests <n>', 'requests per point', '100')
    .option('--duration <time>', 'time limit per point, e.g. 60s or 2m')
    .option('--timeout <time>', 'limit per request', '600s')
    .option('--seed <n>', 'seed of prompt and length sampling', '1')
    .option('--no-ignore-eos', 'do not send ignore_eos/min_tokens (for servers that reject them)')
    .option('--gpu-price <usd>', 'USD per GPU-hour, for $/1M output tokens')
    .option('--gpus <n>', 'GPUs behind the endpoint', '1')
    .option('--gpu <id>', 'catalog GPU behind the endpoint (estimator curve on the plot, pool record)')
    .option('--precision <p>', 'weight precision for the estimator curve', 'bf16')
    .option('--slo-ttft-ms <ms>', 'TTFT objective for goodput')
    .option('--slo-tpot-ms <ms>', 'TPOT objective for goodput')
    .option('--format <f>', 'table, json or csv', 'table')
    .option('--plot <file.svg>', 'write a Pareto plot (tokens/s per GPU vs tokens/s per user)')
    .option('--save-pool <name>', 'store the best measured throughput as a GPU pool')
    .option('--input-cost-weight <w>', 'price of an input token relative to an output token in the pool', '0.25')
    .option('--data-dir <dir>', 'where gpu-pools.json lives (default $PERTOKEN_DATA_DIR or ./.pertoken)')
    .action(async (flags: BenchCliFlags) => {
      const format = parseFormat(flags.format);
      const plan = resolveBench(flags, env);
      if (flags.savePool !== undefined && plan.gpuPriceUsdPerHour === null) {
        throw new PertokenError('invalid_request', '--save-pool needs the GPU price (USD per GPU-hour)', {
          param: '--gpu-price',
        });
      }
      const tty = io.stderr.isTTY === true;
      if (tty) plan.onProgress = progressBar(io.stderr);
      let run: BenchRun;
      try {
        run = await runBench(plan);
      } finally {
        if (tty) io.stderr.write('\r\x1b[2K');
      }
      io.stdout.write(renderBench(run.report, format));
      if (flags.plot !== undefined) {
        await writeFile(
          flags.plot,
          paretoSvg(`${plan.model}: throughput vs interactivity`, plotSeries(flags, run, io)),
        );
        io.stderr.write(`wrote ${flags.plot}\n`);
      }
      if (flags.savePool !== undefined) {
        const pool = poolFromRun(flags.savePool, flags, plan, run);
        const dataDir = resolveDataDir(flags.dataDir, env);
        await savePool(dataDir, pool);
        const price = poolPricePerMTok(pool);
        io.stderr.write(
          `saved GPU pool ${pool.name} (${pool.output_tokens_per_s} output tokens/s at ${pool.measured_at_load}): ` +
            `$${price.input} per 1M input, $${price.output} per 1M output tokens -> ${poolsPath(dataDir)}\n`,
        );
      }
    });
}
