/**
 * One streamed chat completion, timed on the client.
 *
 * Definitions (the same in docs/selfhosted.md):
 * - TTFT: from sending the request to receiving the first content chunk (a chunk whose delta
 *   carries generated text: `content` or `reasoning_content`).
 * - ITL (inter-token latency): every gap between two consecutive content chunks, as received.
 *   A server that packs several tokens per chunk shows fewer, longer gaps.
 * - TPOT (time per output token): (E2E − TTFT) / (output_tokens − 1) per request, where
 *   output_tokens is the server's `usage.completion_tokens` (requested with
 *   `stream_options.include_usage`); it does not depend on how tokens are packed into chunks.
 * - E2E: from sending the request to the end of the stream.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { WorkItem } from './workload.js';

export interface RequestResult {
  ok: boolean;
  /** Why the request failed (HTTP status and message, or the network error). */
  error: string | null;
  /** True when the failure happened before any response (connection refused, DNS...). */
  unreachable: boolean;
  status: number | null;
  startMs: number;
  endMs: number;
  ttftMs: number | null;
  /** Gaps between consecutive content chunks, ms. */
  itlMs: number[];
  tpotMs: number | null;
  e2eMs: number;
  outputTokens: number;
  inputTokens: number | null;
  /** Content chunks received (what output_tokens falls back to without usage). */
  contentChunks: number;
  /** True when the server reported usage (output_tokens is exact). */
  usageReported: boolean;
}

export interface ChatTarget {
  /** Base URL ending in /v1. */
  baseUrl: string;
  model: string;
  apiKey: string | null;
  /** Ask OpenAI-compatible servers (vLLM, SGLang, TRT-LLM) to ignore EOS and min-length the output. */
  ignoreEos: boolean;
  dispatcher: Dispatcher;
}

export function chatUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
}

function bodyOf(target: ChatTarget, item: WorkItem): string {
  const body: Record<string, unknown> = {
    model: target.model,
    messages: item.messages,
    max_tokens: item.maxTokens,
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
  };
  if (target.ignoreEos) {
    body.ignore_eos = true;
    body.min_tokens = item.maxTokens;
  }
  return JSON.stringify(body);
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCode(err: unknown): string | null {
  let cur: unknown = err;
  for (let depth = 0; depth < 4 && typeof cur === 'object' && cur !== null; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code !== null && !message.includes(code) ? `${code}: ${message}` : message;
}

function hasContent(delta: unknown): boolean {
  if (typeof delta !== 'object' || delta === null) return false;
  const d = delta as Record<string, unknown>;
  return (
    (typeof d.content === 'string' && d.content !== '') ||
    (typeof d.reasoning_content === 'string' && d.reasoning_content !== '')
  );
}

export async function streamChat(target: ChatTarget, item: WorkItem, signal?: AbortSignal): Promise<RequestResult> {
  const startMs = performance.now();
  const result: RequestResult = {
    ok: false,
    error: null,
    unreachable: false,
    status: null,
    startMs,
    endMs: startMs,
    ttftMs: null,
    itlMs: [],
    tpotMs: null,
    e2eMs: 0,
    outputTokens: 0,
    inputTokens: null,
    contentChunks: 0,
    usageReported: false,
  };
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (target.apiKey !== null) headers.authorization = `Bearer ${target.apiKey}`;
  let lastContent: number | null = null;
  try {
    const res = await request(chatUrl(target.baseUrl), {
      method: 'POST',
      headers,
      body: bodyOf(target, item),
      dispatcher: target.dispatcher,
      ...(signal ? { signal } : {}),
    });
    result.status = res.statusCode;
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      result.error = `HTTP ${res.statusCode}: ${errorMessage(text)}`;
      return finish(result);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      const now = performance.now();
      buffer += decoder.decode(chunk as Buffer, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') continue;
        let event: unknown;
        try {
          event = JSON.parse(data);
        } catch {
          continue;
        }
        if (typeof event !== 'object' || event === null) continue;
        const ev = event as { choices?: Array<{ delta?: unknown }>; usage?: unknown; error?: { message?: unknown } };
        if (ev.error !== undefined) {
          result.error = `stream error: ${typeof ev.error.message === 'string' ? ev.error.message : JSON.stringify(ev.error)}`;
        }
        if (Array.isArray(ev.choices) && ev.choices.some((c) => hasContent(c.delta))) {
          result.contentChunks++;
          if (lastContent === null) result.ttftMs = now - startMs;
          else result.itlMs.push(now - lastContent);
          lastContent = now;
        }
        if (typeof ev.usage === 'object' && ev.usage !== null) {
          const u = ev.usage as { completion_tokens?: unknown; prompt_tokens?: unknown };
          if (typeof u.completion_tokens === 'number') {
            result.outputTokens = u.completion_tokens;
            result.usageReported = true;
          }
          if (typeof u.prompt_tokens === 'number') result.inputTokens = u.prompt_tokens;
        }
      }
    }
    if (!result.usageReported) result.outputTokens = result.contentChunks;
    result.ok = result.error === null && result.ttftMs !== null;
    if (result.error === null && result.ttftMs === null) result.error = 'stream ended without any content';
  } catch (err) {
    result.error = describe(err);
    result.unreachable = result.status === null && UNREACHABLE.has(errorCode(err) ?? '');
  }
  return finish(result);
}

function finish(result: RequestResult): RequestResult {
  result.endMs = performance.now();
  result.e2eMs = result.endMs - result.startMs;
  if (result.ok && result.ttftMs !== null && result.outputTokens > 1) {
    result.tpotMs = (result.e2eMs - result.ttftMs) / (result.outputTokens - 1);
  }
  return result;
}

function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200).replace(/\s+/g, ' ').trim();
}
