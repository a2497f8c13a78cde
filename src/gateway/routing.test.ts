import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { PertokenError } from '../errors.js';
import { resolveAttribution } from './attribution.js';
import { createModelRouter } from './routing.js';
import { adapterFor } from '../providers/index.js';
import { splitAtTerminal, terminalMarkers } from './stream-end.js';

const config = parseConfig({
  upstreams: [
    { name: 'openai', kind: 'openai', base_url: 'http://127.0.0.1:1/v1' },
    { name: 'vllm', kind: 'openai', provider: 'acme-vllm', base_url: 'http://127.0.0.1:2/v1' },
    { name: 'anthropic', kind: 'anthropic', base_url: 'http://127.0.0.1:3' },
  ],
  routes: [
    { match: 'llama-*', upstream: 'vllm' },
    { match: 'claude-*', upstream: 'anthropic' },
    { match: '*', upstream: 'openai' },
  ],
});

describe('model routing', () => {
  const router = createModelRouter(config.upstreams, config.routes);
  it('takes the first matching route of the request wire', () => {
    expect(router.resolve('llama-3.1-8b', 'openai').name).toBe('vllm');
    expect(router.resolve('gpt-4o', 'openai').name).toBe('openai');
    expect(router.resolve('claude-sonnet-4-5', 'anthropic').name).toBe('anthropic');
    // An OpenAI-shaped body for a claude model never goes to the Anthropic wire.
    expect(router.resolve('claude-sonnet-4-5', 'openai').name).toBe('openai');
  });
  it('refuses a model no route of that wire matches, naming the model', () => {
    try {
      router.resolve('gpt-4o', 'anthropic');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PertokenError);
      expect((err as PertokenError).param).toBe('model');
    }
  });
  it('defaults to the first upstream of the wire without routes', () => {
    const bare = createModelRouter(config.upstreams, []);
    expect(bare.resolve('anything', 'openai').name).toBe('openai');
    expect(bare.resolve('anything', 'anthropic').name).toBe('anthropic');
  });
});

describe('attribution headers', () => {
  const anonymous = { key_id: null, tenant: null, project: null };
  it('reads and validates headers; the key identity wins', () => {
    const headers = {
      'x-pertoken-tenant': 'acme',
      'x-pertoken-project': 'search',
      'x-pertoken-user': 'u@acme.io',
      'x-pertoken-tags': 'env=prod, team=ml',
    };
    expect(resolveAttribution(headers, anonymous)).toMatchObject({
      tenant: 'acme',
      project: 'search',
      user: 'u@acme.io',
      tags: { env: 'prod', team: 'ml' },
    });
    expect(resolveAttribution(headers, { key_id: 'k1', tenant: 'globex', project: null })).toMatchObject({
      tenant: 'globex',
      project: 'search',
      key_id: 'k1',
    });
    expect(resolveAttribution({}, anonymous).tenant).toBe('default');
  });
  it.each([
    ['x-pertoken-tenant', 'a b'],
    ['x-pertoken-feature', 'x'.repeat(129)],
    ['x-pertoken-user', 'semi;colon'],
    ['x-pertoken-tags', 'novalue'],
    ['x-pertoken-tags', 'k=v,=v'],
  ])('rejects %s=%s naming the header', (name, value) => {
    try {
      resolveAttribution({ [name]: value }, anonymous);
      expect.unreachable();
    } catch (err) {
      expect((err as PertokenError).code).toBe('invalid_header');
      expect((err as PertokenError).param).toBe(name);
      expect((err as PertokenError).status).toBe(400);
    }
  });
});

describe('terminal event hold-back', () => {
  it('holds the [DONE] event and everything after it', () => {
    const bytes = Buffer.from('data: {"a":1}\n\ndata: [DONE]\n\n');
    const [now, held] = splitAtTerminal(bytes, terminalMarkers(adapterFor('openai.chat')));
    expect(now.toString()).toBe('data: {"a":1}\n\n');
    expect(held.toString()).toBe('data: [DONE]\n\n');
  });
  it('backs up to the start of a named Anthropic event, CRLF too', () => {
    const bytes = Buffer.from(
      'event: message_delta\r\ndata: {}\r\n\r\nevent: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n',
    );
    const [now, held] = splitAtTerminal(bytes, terminalMarkers(adapterFor('anthropic.messages')));
    expect(held.toString().startsWith('event: message_stop')).toBe(true);
    expect(Buffer.concat([now, held]).equals(bytes)).toBe(true);
  });
  it('passes everything through when no terminal marker is present', () => {
    const bytes = Buffer.from('data: {"type":"response.output_text.delta"}\n\n');
    const [now, held] = splitAtTerminal(bytes, terminalMarkers(adapterFor('openai.responses')));
    expect(now.equals(bytes)).toBe(true);
    expect(held.length).toBe(0);
  });
});
