import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzParameters, fuzzTimeout } from '../testing/fuzz.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';

/**
 * Every GET route of the query, admin and metrics API with any query string (known parameters
 * with odd values, unknown ones, repeats, encodings) and any path id, with the admin token, a
 * read key or nothing: a 200, or a 4xx whose JSON names the parameter — never a 5xx.
 */

const RUNS = 150;

/** Parameters the API takes somewhere (DESIGN §3), so odd values reach the parsers. */
const KNOWN = [
  'from',
  'to',
  'group_by',
  'filter[tenant]',
  'filter[project]',
  'filter[model]',
  'filter[day]',
  'filter[nope]',
  'filter[]',
  'limit',
  'cursor',
  'period',
  'tenant',
  'scope',
  'state',
  'threshold_pct',
  'at',
  'step',
  'tz',
  'top',
  'outcome',
  'format',
  'provider',
  'source',
];

const valueArb = fc.oneof(
  fc.constantFrom(
    '',
    '2026-11-01',
    '2026-11-01T00:00:00Z',
    '2026-11-01T00:00:00+05:30',
    '2026-02-30',
    '0000-01-01',
    '9999-12-31',
    '275760-09-13',
    '2026-11',
    '2026-13',
    'tenant,model,day',
    'tenant,,model',
    'hour',
    'nope',
    'acme',
    'tenant:acme',
    'budget:x',
    'all',
    'firing',
    '0',
    '-1',
    '1e3',
    '1001',
    '0.5',
    'NaN',
    'Infinity',
    'Europe/Berlin',
    'Mars/Olympus',
    'json',
    'csv',
    '1h',
    '1d',
    'x'.repeat(2000),
  ),
  fc.string({ maxLength: 30 }),
  fc.integer().map(String),
);

/** Mostly parameters the route takes (so values reach its parsers), sometimes any name. */
const queryArb = (takes: readonly string[]) =>
  fc.array(
    fc.tuple(
      fc.oneof(
        { weight: 12, arbitrary: takes.length > 0 ? fc.constantFrom(...takes) : fc.constantFrom(...KNOWN) },
        { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...KNOWN), fc.string({ maxLength: 12 })) },
      ),
      valueArb,
    ),
    { maxLength: 4 },
  );

let h: GovernedHarness;
let readKey: string;
/** GET routes and the KNOWN parameters each takes (found by asking it). */
let routes: Array<{ pattern: string; takes: string[] }>;

/** The KNOWN parameters a route does not refuse as unknown. */
async function paramsOf(pattern: string): Promise<string[]> {
  const takes: string[] = [];
  for (const name of KNOWN) {
    const path = pattern.replace(/:[a-z_]+/g, 'q-1');
    const res = await call(h.url, 'GET', `${path}?${encodeURIComponent(name)}=`);
    const error = res.json.error as { param?: string; message?: string } | undefined;
    if (!(res.status === 400 && error?.param === name && /unknown/i.test(error.message ?? ''))) takes.push(name);
  }
  return takes;
}

beforeAll(async () => {
  h = await startHarness({ governance: true, adminToken: ADMIN, upstream: 'http://127.0.0.1:9' });
  await call(h.url, 'POST', '/api/v1/admin/tenants', { id: 'acme' });
  readKey = (await call(h.url, 'POST', '/api/v1/admin/keys', { tenant: 'acme', scopes: ['read'] })).json.key as string;
  await call(h.url, 'POST', '/v1/usage/events', [
    {
      id: 'q-1',
      time: '2026-11-20T10:15:00Z',
      source: 's',
      tenant: 'acme',
      provider: 'openai',
      model: 'gpt-4o-mini',
      tokens: { input: 10 },
    },
  ]);
  const patterns = h.app
    .routes()
    .filter(
      (r) => r.method === 'GET' && (r.pattern.startsWith('/api/v1/') || ['/metrics', '/healthz'].includes(r.pattern)),
    )
    .map((r) => r.pattern);
  routes = await Promise.all(patterns.map(async (pattern) => ({ pattern, takes: await paramsOf(pattern) })));
});
afterAll(async () => {
  await h.close();
});

describe('GET API routes with any query', () => {
  it(
    'a 200 or a 4xx naming the parameter, never a 5xx',
    async () => {
      expect(routes.length).toBeGreaterThan(5);
      const caseArb = fc.constantFrom(...routes).chain(({ pattern, takes }) =>
        fc.record({
          route: fc.constant(pattern),
          id: fc.oneof(fc.constantFrom('q-1', 'acme', '..', '%2F', 'x'.repeat(300)), fc.string({ maxLength: 20 })),
          query: queryArb(takes),
          who: fc.oneof(
            { weight: 4, arbitrary: fc.constant('admin') },
            { weight: 1, arbitrary: fc.constantFrom('read', 'none') },
          ),
        }),
      );
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const path = c.route.replace(/:[a-z_]+/g, encodeURIComponent(c.id) || 'x');
          const qs = c.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
          const token = c.who === 'admin' ? ADMIN : c.who === 'read' ? readKey : null;
          const res = await request(`${h.url}${path}${qs ? `?${qs}` : ''}`, {
            headers: token ? { authorization: `Bearer ${token}` } : {},
          });
          const text = await res.body.text();
          expect(res.statusCode, `${path}?${qs} -> ${text.slice(0, 300)}`).toBeLessThan(500);
          if (res.statusCode < 400) return;
          const error = (JSON.parse(text) as { error: { param: string | null; message: string; code: string } }).error;
          expect(error.message).toEqual(expect.any(String));
          if (res.statusCode === 400) {
            const sent = new Set(c.query.map(([k]) => k));
            expect(error.param, `${path}?${qs} -> ${text}`).toEqual(expect.any(String));
            const named = error.param as string;
            // The parameter sent, or one the route needs and did not get.
            expect(sent.has(named) || KNOWN.includes(named) || named === 'id', `${path}?${qs} -> ${text}`).toBe(true);
          }
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 50),
  );
});
