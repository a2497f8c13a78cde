/**
 * The load generator, in its own process: a closed loop of `concurrency` workers over one undici
 * Pool (one connection per worker), each sending the next request as soon as the previous one's
 * last byte arrived. A run is a warm-up (discarded) followed by a fixed number of requests or a
 * fixed duration. Latency is measured from just before the request is sent to its last body byte;
 * TTFT to its first body byte (headers alone do not count: pertoken flushes them early).
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { runChild } from './child.mjs';

const DONE = Buffer.from('data: [DONE]\n\n');

export function chatBody({ stream, outputTokens }) {
  return JSON.stringify({
    model: 'gpt-4o-mini',
    max_tokens: outputTokens,
    stream,
    // Sent by the client so that the upstream does the same work whether or not pertoken (which
    // would add it) is in the path.
    ...(stream ? { stream_options: { include_usage: true } } : {}),
    messages: [
      { role: 'system', content: 'You are a concise assistant that answers in one short paragraph.' },
      {
        role: 'user',
        content: 'Explain in a few sentences why a metering gateway must not lose usage when a stream is cut.',
      },
    ],
  });
}

const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'x-pertoken-tenant': 'bench' };

async function oneRequest(pool, body, stream) {
  const t0 = performance.now();
  const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers: HEADERS, body });
  let ttft = null;
  let tail = Buffer.alloc(0);
  for await (const chunk of res.body) {
    ttft ??= performance.now() - t0;
    if (stream) tail = Buffer.concat([tail, chunk]).subarray(-DONE.length);
  }
  const total = performance.now() - t0;
  // A stream counts only if it ended with the terminator, i.e. was complete and (through pertoken) committed.
  const ok = res.statusCode === 200 && (!stream || tail.equals(DONE));
  return { ok, total, ttft: ttft ?? total };
}

async function run({ target, stream, concurrency, outputTokens, warmupMs, requests, durationMs }) {
  const pool = new Pool(target, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const body = chatBody({ stream, outputTokens });
  const counts = { ok: 0, failed: 0, warmupOk: 0, warmupFailed: 0 };
  const totals = [];
  const ttfts = [];

  let phase = 'warmup';
  let issued = 0;
  let measuredFrom = 0;
  let measuredUntil = 0;
  const more = () =>
    phase === 'warmup' ? true : requests !== undefined ? issued++ < requests : performance.now() < measuredUntil;

  const worker = async () => {
    while (phase !== 'done' && more()) {
      const counting = phase;
      let result;
      try {
        result = await oneRequest(pool, body, stream);
      } catch {
        result = { ok: false };
      }
      if (counting === 'warmup') counts[result.ok ? 'warmupOk' : 'warmupFailed']++;
      else if (!result.ok) counts.failed++;
      else {
        counts.ok++;
        totals.push(result.total);
        ttfts.push(result.ttft);
      }
    }
  };

  const workers = Array.from({ length: concurrency }, worker);
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  // Requests in flight across the switch were started in warm-up and are counted there.
  phase = 'measure';
  measuredFrom = performance.now();
  if (durationMs !== undefined) measuredUntil = measuredFrom + durationMs;
  await Promise.all(workers);
  const elapsedMs = performance.now() - measuredFrom;
  phase = 'done';
  await pool.close();
  // Raw samples go back to the parent, which merges the rounds of a target before taking percentiles.
  return { ...counts, elapsedMs, totals, ttfts: stream ? ttfts : [] };
}

runChild(async () => ({ onMessage: (msg) => run(msg) }));
