import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canReach, serverAddress } from './net.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** The outage proxy itself, in front of a local server that answers every chunk with `ok:<chunk>`. */

let server: Server;
let serverSockets: Set<Socket>;
let received: string[];
let target: string;
let proxy: TcpProxy;
const clients: Socket[] = [];

beforeEach(async () => {
  received = [];
  serverSockets = new Set();
  server = createServer((socket) => {
    serverSockets.add(socket);
    socket.on('close', () => serverSockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      received.push(chunk.toString());
      socket.write(`ok:${chunk.toString()}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  target = `redis://127.0.0.1:${address.port}`;
  proxy = await startTcpProxy(target);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await proxy.close();
  for (const socket of serverSockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxy.port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
    clients.push(socket);
  });
}

function nextData(socket: Socket): Promise<string> {
  return new Promise((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
}

function failure(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.once('close', () => resolve('closed'));
  });
}

describe('startTcpProxy', () => {
  it('forwards both ways and counts the connections it accepted', async () => {
    const client = await open();
    const reply = nextData(client);
    client.write('ping');
    expect(await reply).toBe('ok:ping');
    expect(proxy.accepted).toBe(1);
    expect(proxy.mode).toBe('forward');
  });

  it('points the target URL at itself, keeping user, database and parameters', async () => {
    expect(proxy.url).toBe(`redis://127.0.0.1:${proxy.port}`);
    const pg = await startTcpProxy('postgres://postgres@127.0.0.1/test?sslmode=disable');
    try {
      expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/test?sslmode=disable`);
    } finally {
      await pg.close();
    }
    expect(serverAddress('postgres://u@localhost/db')).toEqual({ host: 'localhost', port: 5432 });
    expect(serverAddress('redis://[::1]')).toEqual({ host: '::1', port: 6379 });
    expect(() => serverAddress('http://127.0.0.1/')).toThrow(/no port in http: URL/);
  });

  it('refuse: resets open connections and refuses new ones, on the same port until forwarding again', async () => {
    const client = await open();
    const reset = failure(client);
    await proxy.setMode('refuse');
    expect(await reset).toBe('ECONNRESET');
    await expect(open()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await canReach(proxy.url, 1000)).toBe(false);

    await proxy.setMode('forward');
    const again = await open();
    const reply = nextData(again);
    again.write('back');
    expect(await reply).toBe('ok:back');
  });

  it('blackhole: holds bytes both ways on open and new connections, and delivers them when it heals', async () => {
    const before = await open();
    await proxy.setMode('blackhole');
    const during = await open(); // accepted, but not connected to the server yet
    const late = [nextData(before), nextData(during)];
    before.write('a');
    during.write('b');
    await sleep(100);
    expect(received).toEqual([]);

    await proxy.setMode('forward');
    expect(await Promise.all(late)).toEqual(['ok:a', 'ok:b']);
    expect(received.sort()).toEqual(['a', 'b']);
  });

  it('blackholeAfter: the matching message reaches the server, its reply waits for the heal', async () => {
    const client = await open();
    proxy.blackholeAfter((chunk) => chunk.includes('commit'));
    const reply = nextData(client);
    client.write('commit');
    await expect.poll(() => received).toEqual(['commit']);
    expect(proxy.mode).toBe('blackhole');

    await proxy.setMode('forward');
    expect(await reply).toBe('ok:commit');
  });

  it('setMode(forward) disarms a blackholeAfter that found no match: a later match forwards', async () => {
    const client = await open();
    proxy.blackholeAfter((chunk) => chunk.includes('commit'));
    await proxy.setMode('forward');
    const reply = nextData(client);
    client.write('commit');
    expect(await reply).toBe('ok:commit');
    expect(proxy.mode).toBe('forward');
  });

  it('silenceExisting: open connections lose their bytes for good while new ones forward', async () => {
    const silent = await open();
    proxy.silenceExisting('both');
    const repliesLost = await open();
    proxy.silenceExisting('replies'); // `silent` keeps losing both ways
    const fresh = await open();

    let answers = 0;
    for (const socket of [silent, repliesLost]) socket.on('data', () => answers++);
    silent.write('never');
    repliesLost.write('runs');
    const reply = nextData(fresh);
    fresh.write('works');
    expect(await reply).toBe('ok:works');
    await expect.poll(() => received.includes('runs')).toBe(true); // the server acted on it
    await proxy.setMode('blackhole');
    await proxy.setMode('forward'); // a heal does not bring lost bytes back
    await sleep(100);
    expect(received).not.toContain('never');
    expect(answers).toBe(0);
  });

  it('notices a client hanging up on a silenced connection and closes its server side', async () => {
    const client = await open();
    await expect.poll(() => serverSockets.size).toBe(1);
    proxy.silenceExisting();
    client.end();
    await expect.poll(() => serverSockets.size).toBe(0);
  });

  it('outage: a mode for a while, then forwarding again', async () => {
    const client = await open();
    await proxy.outage('blackhole', 50);
    expect(proxy.mode).toBe('forward');
    const reply = nextData(client);
    client.write('after');
    expect(await reply).toBe('ok:after');
  });
});
