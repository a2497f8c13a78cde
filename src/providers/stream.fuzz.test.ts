import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countFieldArb, fuzzParameters, isCount } from '../testing/fuzz.js';
import { ADAPTERS } from './index.js';
import { feedChunks } from './testing/feed.js';
import type { ProviderAdapter, RouteId } from './types.js';

/**
 * Provider SSE streams through each adapter's stream tap: real event shapes with arbitrary usage
 * numbers (huge, negative, fractional, mistyped, missing), garbage blocks, comments, any line
 * ending, cut at any byte and split into any chunks. The tap never throws, forwards the bytes it
 * was given (only the usage chunk a client did not ask for is hidden), reports usage as
 * non-negative safe integers, and says `completed` exactly when the end-of-stream event arrived.
 */

const RUNS = 150;

/** One SSE block of a generated stream: its fields (data last) and what the tap should make of it. */
interface Block {
  event?: string;
  id?: string;
  /** Data lines (joined with "\n" by SSE); none for a comment-only block. */
  data: string[];
  comment?: string;
  /** The end-of-stream event of its wire. */
  terminal: boolean;
  /** An OpenAI usage-only chunk (`choices: []`), hidden from a client that did not ask for it. */
  usageOnly: boolean;
}

const json = (value: unknown): string => JSON.stringify(value);
const textArb = fc.string({ maxLength: 40 });
const modelArb = fc.constantFrom('gpt-4o-mini-2024-07-18', 'claude-sonnet-4-5-20250929', 'o4-mini', '');

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
const defined = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const openaiUsageArb = fc
  .record({
    prompt_tokens: maybe(countFieldArb),
    completion_tokens: maybe(countFieldArb),
    total_tokens: maybe(countFieldArb),
    prompt_tokens_details: maybe(fc.record({ cached_tokens: maybe(countFieldArb) }).map(defined)),
    completion_tokens_details: maybe(fc.record({ reasoning_tokens: maybe(countFieldArb) }).map(defined)),
  })
  .map(defined);

const responsesUsageArb = fc
  .record({
    input_tokens: maybe(countFieldArb),
    output_tokens: maybe(countFieldArb),
    input_tokens_details: maybe(fc.record({ cached_tokens: maybe(countFieldArb) }).map(defined)),
    output_tokens_details: maybe(fc.record({ reasoning_tokens: maybe(countFieldArb) }).map(defined)),
  })
  .map(defined);

const anthropicUsageArb = fc
  .record({
    input_tokens: maybe(countFieldArb),
    output_tokens: maybe(countFieldArb),
    cache_read_input_tokens: maybe(countFieldArb),
    cache_creation_input_tokens: maybe(countFieldArb),
    cache_creation: maybe(fc.record({ ephemeral_1h_input_tokens: maybe(countFieldArb) }).map(defined)),
  })
  .map(defined);

const plain = (data: string, extra: Partial<Block> = {}): Block => ({
  data: [data],
  terminal: false,
  usageOnly: false,
  ...extra,
});

/** The events a provider sends on each wire, with arbitrary contents. */
const WIRE_EVENTS: Record<'chat' | 'completions' | 'responses' | 'anthropic', fc.Arbitrary<Block>> = {
  chat: fc.oneof(
    fc.tuple(modelArb, textArb).map(([model, content]) =>
      plain(
        json({
          id: 'c',
          object: 'chat.completion.chunk',
          model,
          choices: [{ index: 0, delta: { content } }],
          usage: null,
        }),
      ),
    ),
    fc
      .tuple(modelArb, openaiUsageArb)
      .map(([model, usage]) => plain(json({ id: 'c', model, choices: [], usage }), { usageOnly: true })),
    fc
      .tuple(textArb, openaiUsageArb)
      .map(([content, usage]) => plain(json({ id: 'c', choices: [{ index: 0, delta: { content } }], usage }))),
    textArb.map((message) => plain(json({ error: { message } }))),
    fc.constant(plain('[DONE]', { terminal: true })),
  ),
  completions: fc.oneof(
    fc.tuple(modelArb, textArb).map(([model, text]) => plain(json({ id: 'c', model, choices: [{ index: 0, text }] }))),
    openaiUsageArb.map((usage) => plain(json({ id: 'c', choices: [], usage }), { usageOnly: true })),
    fc.constant(plain('[DONE]', { terminal: true })),
  ),
  responses: fc.oneof(
    modelArb.map((model) =>
      plain(json({ type: 'response.created', response: { model, status: 'in_progress' } }), {
        event: 'response.created',
      }),
    ),
    textArb.map((delta) =>
      plain(json({ type: 'response.output_text.delta', delta }), { event: 'response.output_text.delta' }),
    ),
    fc
      .tuple(
        fc.constantFrom('response.completed', 'response.incomplete', 'response.failed'),
        modelArb,
        maybe(responsesUsageArb),
      )
      .map(([type, model, usage]) =>
        plain(json({ type, response: defined({ model, usage, output: [], error: { message: 'x' } }) }), {
          event: type,
          terminal: type !== 'response.failed',
        }),
      ),
    textArb.map((message) => plain(json({ type: 'error', message }), { event: 'error' })),
  ),
  anthropic: fc.oneof(
    fc
      .tuple(modelArb, maybe(anthropicUsageArb))
      .map(([model, usage]) =>
        plain(json({ type: 'message_start', message: defined({ model, usage }) }), { event: 'message_start' }),
      ),
    textArb.map((text) =>
      plain(json({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }), {
        event: 'content_block_delta',
      }),
    ),
    maybe(anthropicUsageArb).map((usage) =>
      plain(json(defined({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage })), {
        event: 'message_delta',
      }),
    ),
    fc.constant(plain(json({ type: 'ping' }), { event: 'ping' })),
    fc.constant(plain(json({ type: 'message_stop' }), { event: 'message_stop', terminal: true })),
    textArb.map((message) =>
      plain(json({ type: 'error', error: { type: 'overloaded_error', message } }), { event: 'error' }),
    ),
  ),
};

/** A line of noise: no CR or LF (those would end it), never a wire's terminal data by accident. */
const noiseArb = fc.string({ maxLength: 60 }).filter((s) => !/[\r\n]|DONE|stop|complete/.test(s));

const garbageArb: fc.Arbitrary<Block> = fc.oneof(
  noiseArb.map((comment) => ({ data: [], comment, terminal: false, usageOnly: false })),
  fc.array(noiseArb, { minLength: 1, maxLength: 3 }).map((data) => ({ data, terminal: false, usageOnly: false })),
  fc
    .constantFrom('{', '{"type":', '[DONE', 'null', '"x"', '[]', '{"choices":"no"}', '{"usage":7}', '{"response":[]}')
    .map((data) => plain(data)),
  noiseArb.map((name) => ({ event: name, data: [], terminal: false, usageOnly: false })),
);

interface Stream {
  bytes: Buffer;
  /** Per block: byte offset where its data ends (the event is whole from there) and where the block ends. */
  spans: Array<{ block: Block; start: number; dataEnd: number; end: number }>;
}

function render(blocks: readonly Block[], eol: string): Stream {
  let text = '';
  const spans: Stream['spans'] = [];
  for (const block of blocks) {
    const start = Buffer.byteLength(text);
    if (block.comment !== undefined) text += `:${block.comment}${eol}`;
    if (block.event !== undefined) text += `event: ${block.event}${eol}`;
    if (block.id !== undefined) text += `id: ${block.id}${eol}`;
    for (const line of block.data) text += `data: ${line}${eol}`;
    const dataEnd = Buffer.byteLength(text) - Buffer.byteLength(eol);
    text += eol;
    spans.push({ block, start, dataEnd, end: Buffer.byteLength(text) });
  }
  return { bytes: Buffer.from(text), spans };
}

/** Cut points 0..len and chunk sizes, applied to the rendered stream. */
function chunk(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) break;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  if (at < bytes.length) chunks.push(bytes.subarray(at));
  return chunks;
}

const BODIES: Record<string, Record<string, unknown>> = {
  'openai.chat': { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hi there' }] },
  'openai.completions': { model: 'gpt-3.5-turbo-instruct', stream: true, prompt: 'Say this is a test' },
  'openai.responses': { model: 'o4-mini', stream: true, input: 'Hi there' },
  'anthropic.messages': {
    model: 'claude-sonnet-4-5',
    stream: true,
    max_tokens: 64,
    messages: [{ role: 'user', content: 'Hi there' }],
  },
};

const CASES: Array<[RouteId, keyof typeof WIRE_EVENTS]> = [
  ['openai.chat', 'chat'],
  ['openai.completions', 'completions'],
  ['openai.responses', 'responses'],
  ['anthropic.messages', 'anthropic'],
];

describe.each(CASES)('%s stream tap', (route, wire) => {
  const adapter: ProviderAdapter = ADAPTERS[route];
  const streamArb = fc.record({
    blocks: fc.array(fc.oneof({ weight: 4, arbitrary: WIRE_EVENTS[wire] }, { weight: 1, arbitrary: garbageArb }), {
      maxLength: 14,
    }),
    eol: fc.constantFrom('\n', '\r\n', '\r'),
    ids: fc.boolean(),
    /** Where the upstream stopped, as a fraction of the stream (1 = all of it). */
    cut: fc.oneof(
      { weight: 2, arbitrary: fc.constant(1) },
      { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
    ),
    sizes: fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 40 }),
    includeUsage: fc.boolean(),
    maxEventBytes: fc.option(fc.integer({ min: 8, max: 512 }), { nil: undefined, freq: 4 }),
  });

  it('never throws; forwards the bytes; safe usage; completed only on the end event', () => {
    fc.assert(
      fc.property(streamArb, (s) => {
        const blocks = s.ids ? s.blocks.map((b, i) => ({ ...b, id: String(i) })) : s.blocks;
        const stream = render(blocks, s.eol);
        const cutAt = Math.floor(stream.bytes.length * s.cut);
        const fed = stream.bytes.subarray(0, cutAt);
        const body = { ...BODIES[route], ...(s.includeUsage ? { stream_options: { include_usage: true } } : {}) };
        const request = adapter.prepare(body, Buffer.from(JSON.stringify(body)));
        const tap = adapter.createStreamTap(
          request,
          s.maxEventBytes === undefined ? {} : { maxEventBytes: s.maxEventBytes },
        );
        const { forwarded, result } = feedChunks(tap, chunk(fed, s.sizes));

        // An event is read when its data arrived whole (a last event without its blank line is
        // read at the end of the stream) and it fits the size limit.
        const read = stream.spans.filter(
          (span) =>
            cutAt >= span.dataEnd &&
            (s.maxEventBytes === undefined || Math.min(span.end, cutAt) - span.start <= s.maxEventBytes),
        );
        // An oversized event is forwarded unread, so it can neither end the stream nor be hidden.
        const hidden = request.clientWantsUsage ? [] : read.filter((span) => span.block.usageOnly);
        const expected = Buffer.concat(
          stream.spans
            .filter((span) => !hidden.includes(span))
            .map((span) => stream.bytes.subarray(span.start, Math.min(span.end, cutAt))),
        );
        expect(forwarded.equals(expected)).toBe(true);

        expect(result.completed).toBe(read.some((span) => span.block.terminal));
        if (result.usage !== null) {
          for (const [bucket, value] of Object.entries(result.usage.buckets)) {
            expect(isCount(value), `${bucket} = ${String(value)}`).toBe(true);
          }
        }
        expect(typeof result.outputText).toBe('string');
      }),
      fuzzParameters(RUNS),
    );
  });
});
