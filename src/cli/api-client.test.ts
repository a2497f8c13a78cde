import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../testing/errors.js';
import { callApi } from './api-client.js';

/** A stub server: `/status/<n>` answers HTTP n with `{ error }` built from the query; `/html` is not pertoken. */
let server: Server;
let url: string;
const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const asked = new URL(req.url ?? '/', 'http://stub');
      if (asked.pathname.endsWith('/html')) {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>not pertoken</html>');
        return;
      }
      const status = /\/status\/(\d+)$/.exec(asked.pathname)?.[1];
      if (status === undefined) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
        return;
      }
      res.writeHead(Number(status), { 'content-type': 'application/json' });
      const param = asked.searchParams.get('param');
      res.end(JSON.stringify({ error: { message: asked.searchParams.get('message') ?? 'refused', param } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('callApi', () => {
  it('sends the bearer, the extra headers and a JSON body, under the server URL as given', async () => {
    const answer = await callApi(
      { PERTOKEN_ADMIN_TOKEN: 'secret' },
      {
        url: `${url}/prefix/`,
        method: 'POST',
        path: '/api/v1/x?a=1',
        body: { b: 2 },
        headers: { 'x-pertoken-actor': 'ann' },
      },
    );
    expect(answer).toEqual({ ok: true });
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/prefix/api/v1/x?a=1',
      headers: { authorization: 'Bearer secret', 'x-pertoken-actor': 'ann', 'content-type': 'application/json' },
      body: '{"b":2}',
    });
  });

  it('names --url when the server cannot be reached or is not pertoken', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = await rejectionOf(callApi({}, { url: `http://127.0.0.1:${port}`, path: '/api/v1/costs' }));
    expect(unreachable).toMatchObject({ code: 'upstream_unreachable', param: '--url' });
    expect(unreachable.message).toMatch(new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${port}: `));

    const html = await rejectionOf(callApi({}, { url, path: '/html' }));
    expect(html).toMatchObject({ code: 'upstream_error', param: '--url' });
    expect(html.message).toBe(`${url} answered HTTP 200 without JSON; is it a pertoken server?`);

    const notUrl = await rejectionOf(callApi({}, { url: 'nowhere', path: '/api/v1/costs' }));
    expect(notUrl.toLine()).toBe('error: --url: not a URL: "nowhere"');
  });

  it('names PERTOKEN_ADMIN_TOKEN on a 401, saying when it is not set', async () => {
    const unset = await rejectionOf(callApi({}, { url, path: '/status/401?message=needs+a+token' }));
    expect(unset).toMatchObject({ code: 'unauthorized', param: 'PERTOKEN_ADMIN_TOKEN' });
    expect(unset.message).toBe('needs a token (PERTOKEN_ADMIN_TOKEN is not set)');
    const wrong = await rejectionOf(callApi({ PERTOKEN_ADMIN_TOKEN: 'x' }, { url, path: '/status/401?message=bad' }));
    expect(wrong.toLine()).toBe('error: PERTOKEN_ADMIN_TOKEN: bad');
    // A 403 naming no field is a refused token too (the admin API is closed, say).
    const closedApi = await rejectionOf(callApi({ PERTOKEN_ADMIN_TOKEN: 'x' }, { url, path: '/status/403' }));
    expect(closedApi).toMatchObject({ code: 'unauthorized', param: 'PERTOKEN_ADMIN_TOKEN' });
  });

  it("names the CLI flag for the API's field", async () => {
    const flags = { limit_usd: '--limit', 'scope.tenant': '--tenant' };
    const mapped = await rejectionOf(
      callApi({}, { url, path: '/status/400?param=limit_usd&message=limit_usd:+too+precise', flags }),
    );
    expect(mapped).toMatchObject({ code: 'invalid_request', param: '--limit', message: 'too precise' });
    const nested = await rejectionOf(callApi({}, { url, path: '/status/400?param=scope.tenant', flags }));
    expect(nested.param).toBe('--tenant');
    const filter = await rejectionOf(callApi({}, { url, path: '/status/400?param=filter[tenant]', flags }));
    expect(filter.param).toBe('--filter');
    const unlisted = await rejectionOf(callApi({}, { url, path: '/status/400?param=group_by', flags }));
    expect(unlisted.param).toBe('--group-by');
    const missing = await rejectionOf(callApi({}, { url, path: '/status/404?param=id', flags: { id: '<id>' } }));
    expect(missing).toMatchObject({ code: 'not_found', param: '<id>' });
    // A refusal of the server's own, with no field, is about the server asked.
    const disabled = await rejectionOf(callApi({}, { url, path: '/status/404?message=chargeback+is+not+enabled' }));
    expect(disabled.toLine()).toBe('error: --url: chargeback is not enabled');
  });

  it('reports a 403 naming a field as forbidden on that flag: a read key asking past its tenant', async () => {
    const past = await rejectionOf(
      callApi(
        { PERTOKEN_ADMIN_TOKEN: 'pt-key' },
        { url, path: '/status/403?param=tenant&message=may+only+read+tenant+"acme"', flags: { tenant: '--tenant' } },
      ),
    );
    expect(past).toMatchObject({ code: 'forbidden', param: '--tenant', message: 'may only read tenant "acme"' });
    // The credential itself (a key without `read` scope) is PERTOKEN_ADMIN_TOKEN.
    const scope = await rejectionOf(
      callApi({ PERTOKEN_ADMIN_TOKEN: 'pt-key' }, { url, path: '/status/403?param=authorization' }),
    );
    expect(scope).toMatchObject({ code: 'forbidden', param: 'PERTOKEN_ADMIN_TOKEN' });
  });
});
