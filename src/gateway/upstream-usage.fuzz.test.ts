import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CALL_COST_NANO } from '../pricing/index.js';
import { countFieldArb, fuzzParameters, fuzzTimeout, isCount } from '../testing/fuzz.js';
import { listenEphemeral, startHarness, type Harness } from '../testing/harness.js';

/**
 * Upstream answers with any usage numbers (huge, negative, fractional, mistyped, missing), whole
 * or streamed, through the whole app: the client gets the upstream's 200 and its bytes, and the
 * call is in the ledger with safe counts and a cost that fits it — never a 4xx of pertoken's own
 * for an answer the upstream gave, never an event that cannot be committed.
 */

const RUNS = 60;

interface Reply {
  contentType: string;
  body: string;
}

let next: Reply = { contentType: 'application/json', body: '{}' };
let server: Server;
let h: Harness;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': next.contentType }).end(next.body);
    });
  });
  const port = await listenEphemeral(server);
  h = await startHarness({ upstream: `http://127.0.0.1:${port}` });
});
afterAll(async () => {
  await h.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });

const openaiUsage = fc.record(
  {
    prompt_tokens: countFieldArb,
    completion_tokens: countFieldArb,
    prompt_tokens_details: fc.record({ cached_tokens: countFieldArb }),
    completion_tokens_details: fc.record({ reasoning_tokens: countFieldArb }),
  },
  { requiredKeys: [] },
);

const anthropicUsage = fc.record(
  {
    input_tokens: countFieldArb,
    output_tokens: countFieldArb,
    cache_read_input_tokens: countFieldArb,
    cache_creation_input_tokens: countFieldArb,
  },
  { requiredKeys: [] },
);

const sse = (events: Array<[string | null, unknown]>): string =>
  events.map(([name, data]) => `${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(data)}\n\n`).join('');

interface Call {
  path: string;
  body: Record<string, unknown>;
  reply: Reply;
}

const MODELS = ['gpt-4o-mini', 'o1-pro', 'gpt-4o'] as const;

const chatCall: fc.Arbitrary<Call> = fc
  .record({ model: fc.constantFrom(...MODELS), usage: maybe(openaiUsage), stream: fc.boolean() })
  .map(({ model, usage, stream }) => ({
    path: '/v1/chat/completions',
    body: { model, stream, messages: [{ role: 'user', content: 'Hi' }] },
    reply: stream
      ? {
          contentType: 'text/event-stream',
          body:
            sse([
              [null, { id: 'c', model, choices: [{ index: 0, delta: { content: 'Hello' } }], usage: null }],
              ...(usage === undefined
                ? []
                : ([[null, { id: 'c', model, choices: [], usage }]] as Array<[null, unknown]>)),
            ]) + 'data: [DONE]\n\n',
        }
      : {
          contentType: 'application/json',
          body: JSON.stringify({
            id: 'c',
            object: 'chat.completion',
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
            ...(usage === undefined ? {} : { usage }),
          }),
        },
  }));

const messagesCall: fc.Arbitrary<Call> = fc
  .record({
    model: fc.constantFrom('claude-opus-4-1', 'claude-sonnet-4-5'),
    start: maybe(anthropicUsage),
    end: maybe(anthropicUsage),
    stream: fc.boolean(),
  })
  .map(({ model, start, end, stream }) => ({
    path: '/v1/messages',
    body: { model, stream, max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] },
    reply: stream
      ? {
          contentType: 'text/event-stream',
          body: sse([
            ['message_start', { type: 'message_start', message: { model, ...(start ? { usage: start } : {}) } }],
            [
              'content_block_delta',
              { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
            ],
            [
              'message_delta',
              { type: 'message_delta', delta: { stop_reason: 'end_turn' }, ...(end ? { usage: end } : {}) },
            ],
            ['message_stop', { type: 'message_stop' }],
          ]),
        }
      : {
          contentType: 'application/json',
          body: JSON.stringify({
            id: 'msg',
            type: 'message',
            model,
            content: [{ type: 'text', text: 'Hello' }],
            ...(end ? { usage: end } : {}),
          }),
        },
  }));

describe('upstream usage of any size through the gateway', () => {
  it(
    'the client gets the upstream 200; the event is committed with safe counts and a cost that fits',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(chatCall, messagesCall), async (c) => {
          next = c.reply;
          const res = await request(`${h.url}${c.path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(c.body),
          });
          const text = await res.body.text();
          expect(res.statusCode, text).toBe(200);
          if (c.reply.contentType === 'application/json') expect(text).toBe(c.reply.body);
          const id = String(res.headers['x-pertoken-request-id']);
          const event = await h.store.getEvent(id);
          expect(event, `no event ${id} for ${c.reply.body}`).not.toBeNull();
          for (const [bucket, value] of Object.entries(event?.buckets ?? {})) {
            expect(isCount(value), `${bucket} = ${String(value)}`).toBe(true);
          }
          const cost = event?.cost_nano ?? null;
          expect(cost === null || (cost >= 0n && cost <= MAX_CALL_COST_NANO)).toBe(true);
          if (cost === null) expect(event?.usage_issues.join(' ')).toMatch(/unpriced|implausible|no price/);
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 50),
  );
});
