import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, ROUTE_IDS, type ProviderAdapter, type RouteId } from '../providers/index.js';
import { startHarness, type GovernedHarness, type Harness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';
import { countLikeArb, fuzzParameters, fuzzTimeout, headerTextArb, idArb, isCount, mutantOf } from '../testing/fuzz.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../testing/scripted-upstream.js';

/**
 * Client requests of every wire through the whole app (open and governed), against an upstream
 * that answers every call with a 200: any 4xx or 5xx is pertoken's own. Bodies are valid ones
 * with parts replaced, random JSON or random bytes; attribution and auth headers are anything a
 * header can carry. Never a 5xx, never a crash; a 4xx is the wire's error JSON naming the field;
 * every event the ledger keeps has safe counts and exact money.
 */

const RUNS = 120;
const GOVERNED_RUNS = 80;

const TOOL = { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } };

const VALID: Record<string, Record<string, unknown>> = {
  'openai.chat': { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }], tools: [TOOL] },
  'openai.responses': {
    model: 'o4-mini',
    input: [{ role: 'user', content: 'Hi' }],
    max_output_tokens: 16,
    tools: [{ type: 'function', name: 'f', parameters: {} }],
  },
  'openai.embeddings': { model: 'text-embedding-3-small', input: ['Hi', 'there'] },
  'openai.completions': { model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', max_tokens: 8 },
  'anthropic.messages': {
    model: 'claude-sonnet-4-5',
    max_tokens: 16,
    system: 'Be brief',
    tools: [{ name: 'f', input_schema: { type: 'object' } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }] }] },
    ],
  },
  'anthropic.count_tokens': { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] },
};

/**
 * Deeply nested JSON, put in as text: parsers and serializers that recurse run out of stack on
 * it (so can this test's own JSON.stringify, hence the placeholder swapped in after).
 */
const DEEP_MARK = 'pertoken-fuzz:deep-json:';
const deepText = (depth: number): string =>
  depth % 2 === 0 ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'[{"a":'.repeat(depth)}1${'}]'.repeat(depth)}`;
const serialize = (body: unknown): Buffer =>
  Buffer.from(
    (JSON.stringify(body) ?? '').replace(new RegExp(`"${DEEP_MARK}(\\d+)"`, 'g'), (_m, depth: string) =>
      deepText(Number(depth)),
    ),
  );

/** What a client may put in any field of a request body. */
const fieldValueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: countLikeArb },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      true,
      false,
      'yes',
      null,
      '',
      ' ',
      [],
      {},
      'x'.repeat(5_000),
      { include_usage: 'yes' },
      [{ role: 'user' }],
      [{ type: 'image_url', image_url: { url: 'data:' } }],
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom(255, 256, 257, 100_000).map((d) => `${DEEP_MARK}${d}`) },
);

interface Sent {
  route: RouteId;
  body: Buffer;
  headers: Record<string, string | string[]>;
}

const bodyArb = (adapter: ProviderAdapter): fc.Arbitrary<Buffer> =>
  fc.oneof(
    { weight: 6, arbitrary: mutantOf(VALID[adapter.route], fieldValueArb).map(serialize) },
    { weight: 3, arbitrary: fc.constant(Buffer.from(JSON.stringify(VALID[adapter.route]))) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(true, false), fc.constant(VALID[adapter.route]))
        .map(([stream, body]) => Buffer.from(JSON.stringify({ ...body, stream }))),
    },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
    {
      weight: 1,
      arbitrary: fc
        .nat()
        .map((n) => JSON.stringify(VALID[adapter.route]))
        .chain((text) => fc.nat({ max: text.length }).map((cut) => Buffer.from(text.slice(0, cut)))),
    },
  );

/** A header value that is not a valid id, or may not be: any visible text, too long, empty, odd. */
const badHeaderValueArb = fc.oneof(
  { weight: 3, arbitrary: headerTextArb },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a'.repeat(300), 'é', 'acme\t', 'x=y', 'tenant,other') },
);

const badTagsArb = fc.oneof(
  headerTextArb,
  fc
    .array(fc.tuple(idArb, idArb), { minLength: 17, maxLength: 20 })
    .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(',')),
  fc.constantFrom('=', 'a=', '=b', 'a=b,,c=d', `${'k=v,'.repeat(300)}k=v`),
);

const ATTRIBUTION = [
  'x-pertoken-tenant',
  'x-pertoken-project',
  'x-pertoken-user',
  'x-pertoken-feature',
  'x-pertoken-trace-id',
];

/** Mostly valid headers (so most requests get through), then 0..2 of them made bad. */
const headersArb = (keys: readonly string[]): fc.Arbitrary<Record<string, string | string[]>> => {
  const valid = fc.record(
    {
      ...Object.fromEntries(ATTRIBUTION.map((name) => [name, idArb])),
      'x-pertoken-tags': fc
        .array(fc.tuple(idArb, idArb), { maxLength: 4 })
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(',')),
      authorization:
        keys.length > 0 ? fc.constantFrom(...keys).map((k) => `Bearer ${k}`) : headerTextArb.map((t) => `Bearer ${t}`),
      'anthropic-version': fc.constant('2023-06-01'),
      'content-type': fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1'),
    },
    { requiredKeys: [] },
  );
  const bad = fc.oneof(
    fc.tuple(fc.constantFrom(...ATTRIBUTION), badHeaderValueArb).map(([k, v]) => ({ [k]: v })),
    fc.tuple(fc.constantFrom(...ATTRIBUTION), idArb, idArb).map(([k, a, b]) => ({ [k]: [a, b] })),
    badTagsArb.map((v) => ({ 'x-pertoken-tags': v })),
    fc
      .oneof(
        headerTextArb,
        headerTextArb.map((t) => `Bearer ${t}`),
        fc.constantFrom('Bearer', 'Bearer ', 'Basic YTpi', `Bearer pt-nokey-${'A'.repeat(43)}`),
      )
      .map((v) => ({ authorization: v })),
    fc.oneof(headerTextArb, ...(keys.length > 0 ? [fc.constantFrom(...keys)] : [])).map((v) => ({ 'x-api-key': v })),
    fc.constant({ 'anthropic-version': 'x' }),
  );
  return fc
    .tuple(valid, fc.array(bad, { maxLength: 2 }))
    .map(([headers, edits]) => Object.assign({}, headers, ...edits) as Record<string, string | string[]>);
};

/** Bodies and headers, mostly one of them bad at a time, sometimes both. */
const sentArb = (keys: readonly string[]): fc.Arbitrary<Sent> =>
  fc
    .constantFrom(...ROUTE_IDS)
    .chain((route) =>
      fc.record({ route: fc.constant(route), body: bodyArb(ADAPTERS[route]), headers: headersArb(keys) }),
    );

interface ErrorShape {
  param: string | null;
  message: string;
}

/** The error of a response body in the wire's shape, or a failure naming what is wrong. */
function wireError(adapter: ProviderAdapter, text: string): ErrorShape {
  const json = JSON.parse(text) as Record<string, unknown>;
  const error = json.error as Record<string, unknown> | undefined;
  expect(error, text).toBeTypeOf('object');
  const e = error as Record<string, unknown>;
  expect(e.type, text).toEqual(expect.any(String));
  expect(e.message, text).toEqual(expect.any(String));
  if (adapter.wire === 'anthropic') {
    // Anthropic's shape ({"type":"error","error":{"type","message"}}) names the field in the message.
    expect(json.type, text).toBe('error');
    return { param: null, message: e.message as string };
  }
  expect(e.code, text).toEqual(expect.any(String));
  expect(e.param === null || typeof e.param === 'string', text).toBe(true);
  return { param: (e.param as string | null) ?? null, message: e.message as string };
}

async function send(base: string, s: Sent): Promise<{ status: number; text: string }> {
  const res = await request(`${base}${ADAPTERS[s.route].clientPath}`, {
    method: 'POST',
    headers: s.headers,
    body: s.body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

/** The whole-app properties: status, error shape and what the ledger kept. */
async function expectWellHandled(h: Harness, s: Sent): Promise<void> {
  const { status, text } = await send(h.url, s);
  expect(status, text).toBeLessThan(500);
  if (status < 400) return;
  const error = wireError(ADAPTERS[s.route], text);
  if (status === 400) {
    // Names the field: `param`, or (whole-body JSON errors, Anthropic shape) the message says what.
    expect(error.param !== null && error.param.length > 0 ? error.param : error.message, text).toMatch(/\S/);
    if (error.param === null) expect(error.message, text).toMatch(/JSON|body|`|x-pertoken|header|model|messages/i);
  }
}

async function expectLedgerSane(h: Harness): Promise<void> {
  await h.store.flush?.();
  const { events } = await h.store.listEvents({ filter: {}, limit: 1000 });
  for (const event of events) {
    for (const [bucket, value] of Object.entries(event.buckets))
      expect(isCount(value), `${bucket} ${value}`).toBe(true);
    expect(event.cost_nano === null || (typeof event.cost_nano === 'bigint' && event.cost_nano >= 0n)).toBe(true);
  }
}

let upstream: ScriptedUpstream;

beforeAll(async () => {
  upstream = await startScriptedUpstream();
});
afterAll(async () => {
  await upstream.close();
});

describe('requests of every wire, open mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ upstream: upstream.url, config: { server: { max_body_bytes: 1_000_000 } } });
  });
  afterAll(async () => {
    await h.close();
  });

  it(
    'never a 5xx of its own; a 4xx is wire-shaped and names the field; the ledger stays sane',
    async () => {
      await fc.assert(
        fc.asyncProperty(sentArb([]), (s) => expectWellHandled(h, s)),
        fuzzParameters(RUNS),
      );
      await expectLedgerSane(h);
      expect(upstream.calls.size).toBeGreaterThan(0);
    },
    fuzzTimeout(RUNS, 50),
  );
});

describe('requests of every wire, governed (keys required)', () => {
  let h: GovernedHarness;
  let keys: string[];
  beforeAll(async () => {
    h = await startHarness({ governance: true, adminToken: ADMIN, upstream: upstream.url });
    await call(h.url, 'POST', '/api/v1/admin/tenants', { id: 'acme' });
    await call(h.url, 'POST', '/api/v1/admin/projects', { id: 'search', tenant: 'acme' });
    const all = await call(h.url, 'POST', '/api/v1/admin/keys', { tenant: 'acme', project: 'search', name: 'app' });
    const chatOnly = await call(h.url, 'POST', '/api/v1/admin/keys', {
      tenant: 'acme',
      name: 'chat',
      scopes: ['chat'],
      models: ['gpt-4o*'],
    });
    keys = [all.json.key as string, chatOnly.json.key as string];
  });
  afterAll(async () => {
    await h.close();
  });

  it(
    'never a 5xx of its own; refusals are wire-shaped; the ledger stays sane',
    async () => {
      await fc.assert(
        fc.asyncProperty(sentArb(keys), (s) => expectWellHandled(h, s)),
        fuzzParameters(GOVERNED_RUNS),
      );
      await expectLedgerSane(h);
    },
    fuzzTimeout(GOVERNED_RUNS, 50),
  );
});
