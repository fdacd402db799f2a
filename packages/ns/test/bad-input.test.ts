import { afterEach, describe, expect, it } from 'vitest';
import type { NsServer, NsSocket } from '@proto/ns';
import { frame, hello, jsonEvent, next, rawClosed, rawConnect, ready, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

interface Setup {
  server: NsServer;
  port: number;
  received: unknown[];
  clientErrors: [Error, NsSocket | undefined][];
  healthy: NsSocket;
}

/** A server that records `good` events and client errors, plus a healthy client. */
async function setup(): Promise<Setup> {
  const received: unknown[] = [];
  const clientErrors: [Error, NsSocket | undefined][] = [];
  const { server, port, client } = await resources.pair();
  server.on('connection', (socket) => socket.data('good', (data) => received.push(data)));
  for (const socket of server.sockets) socket.data('echo', (data) => socket.send('echo', data));
  server.on('clientError', (error, socket) => clientErrors.push([error, socket]));
  return { server, port, received, clientErrors, healthy: client };
}

/** Sends `bytes` from a raw TCP client; resolves with the error the server reports once it closed it. */
async function offend(s: Setup, bytes: Buffer): Promise<{ error: Error; socket: NsSocket | undefined; sent: Buffer }> {
  const reported = next<[Error, NsSocket | undefined]>(s.server, 'clientError');
  const raw = await rawConnect(resources, s.port);
  const closed = rawClosed(raw);
  raw.write(bytes);
  const [error, socket] = await reported;
  const sent = await closed;
  return { error, socket, sent };
}

async function stillHealthy(s: Setup): Promise<void> {
  const echo = next<[unknown]>(s.healthy, 'data::echo');
  s.healthy.send('echo', { ok: true });
  expect((await echo)[0]).toEqual({ ok: true });
  expect(s.server.listening).toBe(true);
}

describe('bad input from a peer', () => {
  it('framed garbage (no hello) closes that connection with ERR_PROTOCOL; others go on', async () => {
    const s = await setup();
    const { error, socket, sent } = await offend(s, frame('hello world, not ns'));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(socket).toBeDefined();
    expect(socket!.state).toBe('closed');
    expect(sent.subarray(0, 9)).toEqual(hello()); // the server said hello first, without waiting
    await stillHealthy(s);
  });

  it('unframed garbage (an HTTP request) is refused by framing, reported the same way', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(error).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' });
    await stillHealthy(s);
  });

  it('bad JSON: ERR_PROTOCOL with the SyntaxError as cause; messages before it stay delivered', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([hello(), ready(), jsonEvent('good', '{"n":1}'), jsonEvent('good', '{"n":'), jsonEvent('good', '{"n":3}')]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(s.received).toEqual([{ n: 1 }]);
    await stillHealthy(s);
  });

  it('an unknown type byte is ERR_PROTOCOL', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([hello(), ready(), frame([0x3f, 1, 2])]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(error.message).toMatch(/0x3f/);
    await stillHealthy(s);
  });

  it('a reserved type byte (0x80..0xff) is ERR_PROTOCOL', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([hello(), ready(), frame([0x80])]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('an extension message with no extension installed is ERR_PROTOCOL', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([hello(), ready(), frame([0x40, 1])]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('a hello of another protocol version is ERR_PROTOCOL, not misparsed', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([hello(2), ready(), jsonEvent('good', '1')]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(error.message).toMatch(/version 2/);
    expect(s.received).toEqual([]);
  });

  it('a user event before the hello is ERR_PROTOCOL', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([jsonEvent('good', '1'), hello()]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(s.received).toEqual([]);
  });

  it('a user event before the peer is READY is ERR_PROTOCOL', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([hello(), jsonEvent('good', '1')]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(s.received).toEqual([]);
  });

  it('a name length past the end of the message is ERR_PROTOCOL', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([hello(), ready(), frame([0x02, 0xff, 0xff], 'good', '1')]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('a wildcard event name from the peer is ERR_PROTOCOL (it could fire every listener)', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([hello(), ready(), jsonEvent('**', '1')]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(s.received).toEqual([]);
  });

  it('a second hello is ERR_PROTOCOL', async () => {
    const s = await setup();
    const { error } = await offend(s, Buffer.concat([hello(), hello()]));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('the failing socket emits error when it has a listener, and stats.lastError records it', async () => {
    const s = await setup();
    const socketErrors: unknown[] = [];
    s.server.on('connection', (socket) => socket.on('error', (error) => socketErrors.push(error)));
    const { error, socket } = await offend(s, Buffer.concat([hello(), ready(), frame([0x05])]));
    expect(socketErrors).toEqual([error]);
    expect(socket!.stats.lastError).toBe(error);
  });

  it('an exception thrown by a data listener closes that connection only', async () => {
    const s = await setup();
    s.server.on('connection', (socket) =>
      socket.data('boom', () => {
        throw new TypeError('listener bug');
      }),
    );
    const { error } = await offend(s, Buffer.concat([hello(), ready(), jsonEvent('boom', '1')]));
    expect(error).toBeInstanceOf(TypeError);
    await stillHealthy(s);
  });
});
