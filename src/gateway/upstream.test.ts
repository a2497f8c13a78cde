import { errors as undiciErrors } from 'undici';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { neverReachedUpstream, upstreamRequestHeaders } from './upstream.js';

const upstream = parseConfig({
  upstreams: [{ name: 'oa', kind: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-up' }],
}).upstreams[0]!;

describe('upstreamRequestHeaders', () => {
  it('keeps Expect at this hop: undici refuses to send it, and the gateway already answered it', () => {
    const out = upstreamRequestHeaders(
      { expect: '100-continue', 'content-type': 'application/json', 'x-custom': 'kept' },
      upstream,
    );
    expect(out).not.toHaveProperty('expect');
    expect(out['x-custom']).toBe('kept');
  });
});

describe('neverReachedUpstream', () => {
  it.each([
    ['undici refusing a header before writing (UND_ERR_NOT_SUPPORTED)', new undiciErrors.NotSupportedError('no')],
    ['undici refusing an argument before writing (UND_ERR_INVALID_ARG)', new undiciErrors.InvalidArgumentError('no')],
    ['a connect timeout', new undiciErrors.ConnectTimeoutError()],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('%s: not sent, never billed', (_name, err) => {
    expect(neverReachedUpstream(err)).toBe(true);
  });

  it.each([
    ['a reset after the request was written', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a headers timeout (the provider may be working on it)', new undiciErrors.HeadersTimeoutError()],
    ['a socket error', new undiciErrors.SocketError('other side closed')],
  ])('%s: may have reached the provider', (_name, err) => {
    expect(neverReachedUpstream(err)).toBe(false);
  });
});
