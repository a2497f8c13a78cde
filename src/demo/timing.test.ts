import { EventEmitter } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createDemoHandler, startDemoUpstream } from './index.js';
import { Lifecycle } from './stream.js';
import { dataOf, eventually, openSse, postJson, postSse } from './testing/client.js';
import { nth, type AnthropicEvent, type ChatChunk } from './testing/wire.js';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }], stream: true };

describe('stream scheduling', () => {
  it('sends one content chunk per scheduled slot, in order, the first together with the role chunk', async () => {
    const up = await startDemoUpstream({ seed: 1, ttftMs: 30, itlMs: 5, maxOutputTokens: 12 });
    try {
      const res = await postSse(`${up.url}/v1/chat/completions`, CHAT);
      const chunks = dataOf(res.events) as unknown as ChatChunk[];
      const content = res.events.filter((_, i) => chunks[i]?.choices[0]?.delta.content);
      expect(content).toHaveLength(12);
      const arrivals = res.events.map((e) => e.at);
      expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));
      // The role chunk rides in the first content chunk's write: first byte == first token.
      expect(nth(res.events, 0).at).toBe(nth(res.events, 1).at);
      const gaps = content.slice(1).map((e, i) => e.at - nth(content, i).at);
      expect(gaps).toHaveLength(11);
      expect(gaps.every((gap) => gap >= 0)).toBe(true);
    } finally {
      await up.close();
    }
  });

  it('groups tokensPerChunk tokens per content chunk, the last one shorter', async () => {
    const up = await startDemoUpstream({ seed: 1, ttftMs: 0, itlMs: 1, maxOutputTokens: 10, tokensPerChunk: 4 });
    try {
      const openai = await postSse(`${up.url}/v1/chat/completions`, {
        ...CHAT,
        stream_options: { include_usage: true },
      });
      const chunks = dataOf(openai.events) as unknown as ChatChunk[];
      const words = chunks
        .map((c) => c.choices[0]?.delta.content)
        .filter((text): text is string => Boolean(text))
        .map((text) => text.trim().split(' ').length);
      expect(words).toEqual([4, 4, 2]);
      expect(nth(chunks, -1).usage?.completion_tokens).toBe(10);

      const anthropic = await postSse(`${up.url}/v1/messages`, {
        model: 'claude-sonnet-4-0',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      });
      const deltas = (dataOf(anthropic.events) as unknown as AnthropicEvent[]).filter(
        (e) => e.type === 'content_block_delta',
      );
      expect(deltas.map((e) => e.delta?.text?.trim().split(' ').length)).toEqual([4, 4, 2]);
    } finally {
      await up.close();
    }
  });
});

describe('client disconnect', () => {
  it('stops the generator when a streaming client goes away', async () => {
    const up = await startDemoUpstream({ seed: 1, ttftMs: 0, itlMs: 5, maxOutputTokens: 100_000 });
    try {
      const stream = await openSse(`${up.url}/v1/chat/completions`, CHAT);
      for (let i = 0; i < 3; i++) expect(await stream.next()).not.toBeNull();
      expect(up.openStreams).toBe(1);
      stream.abort();
      await eventually(() => up.openStreams === 0 && up.inFlight === 0);
    } finally {
      await up.close();
    }
  });

  it('stops waiting on a non-stream reply when its client goes away', async () => {
    const up = await startDemoUpstream({ ttftMs: 600_000 });
    try {
      const controller = new AbortController();
      const pending = request(`${up.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...CHAT, stream: false }),
        signal: controller.signal,
      }).catch((err: unknown) => err);
      await eventually(() => up.inFlight === 1);
      controller.abort();
      expect(await pending).toBeInstanceOf(Error);
      await eventually(() => up.inFlight === 0);
      expect(up.openStreams).toBe(0);
    } finally {
      await up.close();
    }
  });
});

/** A stand-in response whose socket buffer is full until the test says it drained. */
class FullResponse extends EventEmitter {
  written: string[] = [];
  write(data: string): boolean {
    this.written.push(data);
    return false;
  }
}

describe('Lifecycle', () => {
  it('waits for drain after a write the socket could not take', async () => {
    const res = new FullResponse();
    const life = new Lifecycle(res as unknown as ServerResponse);
    let done = false;
    const writing = life.write(res as unknown as ServerResponse, 'chunk').then(() => {
      done = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(res.written).toEqual(['chunk']);
    expect(done).toBe(false);
    res.emit('drain');
    await writing;
    expect(done).toBe(true);
    expect(res.listenerCount('drain')).toBe(0);
  });

  it('wakes a pending sleep and drain wait when the response closes, and writes nothing after', async () => {
    const res = new FullResponse();
    const life = new Lifecycle(res as unknown as ServerResponse);
    const sleeping = life.sleepUntil(performance.now() + 600_000);
    const draining = life.write(res as unknown as ServerResponse, 'a');
    res.emit('close');
    await Promise.all([sleeping, draining]);
    expect(life.closed).toBe(true);
    await life.write(res as unknown as ServerResponse, 'b');
    expect(res.written).toEqual(['a']);
  });
});

describe('createDemoHandler', () => {
  it('serves from a host server and counts requests', async () => {
    const handler = createDemoHandler({ seed: 2, ttftMs: 0, itlMs: 0, maxOutputTokens: 3 });
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await postJson(`http://127.0.0.1:${port}/v1/chat/completions`, { ...CHAT, stream: false });
      expect(res.status).toBe(200);
      expect(handler.requests).toBe(1);
      expect(handler.inFlight).toBe(0);
      expect(handler.openStreams).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('rejects invalid options with the offending field', () => {
    expect(() => createDemoHandler({ tokensPerChunk: 0 })).toThrow(/tokensPerChunk/);
    expect(() => createDemoHandler({ itlMs: -1 })).toThrow(/itlMs/);
    expect(() => createDemoHandler({ seed: 1.5 })).toThrow(/seed/);
  });
});
