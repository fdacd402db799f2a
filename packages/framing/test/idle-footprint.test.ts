// What the idle-memory cuts must not change: the listener table, the live stats view, and a
// server's connection set (a close hook instead of a listener).
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, FramedSocket } from '../src/index.js';
import { collectFrames, listenLocal, Resources } from './fixtures/helpers.js';

const resources = new Resources();

afterEach(async () => {
  await resources.closeAll();
});

describe('FramedSocket listener table', () => {
  it('behaves as a null-prototype table: no inherited names, eventNames lists only what is listened to', () => {
    const socket = new FramedSocket(new PassThrough());
    expect(socket.eventNames()).toEqual([]);
    expect(socket.emit('toString' as 'timeout')).toBe(false);
    expect(socket.emit('constructor' as 'timeout')).toBe(false);
    expect(socket.listenerCount('close')).toBe(0);
    const onClose = (): void => {};
    socket.on('close', onClose);
    socket.on('timeout', onClose);
    expect(socket.eventNames()).toEqual(['close', 'timeout']);
    socket.off('close', onClose);
    expect(socket.eventNames()).toEqual(['timeout']);
    socket.removeAllListeners();
    expect(socket.eventNames()).toEqual([]);
    socket.destroy();
  });
});

describe('FramedSocket stats', () => {
  it('is one live object whose counters are own enumerable properties', async () => {
    const { port, accepted } = await listenLocal(resources);
    const client = resources.socket(await connect({ host: '127.0.0.1', port }));
    const peer = await accepted;
    const stats = client.stats;
    expect(client.stats).toBe(stats);
    expect(Object.keys(stats)).toEqual(['bytesIn', 'bytesOut', 'framesIn', 'framesOut']);
    const frames = collectFrames(peer, 1);
    client.send('abc');
    await frames;
    expect({ ...stats }).toEqual({ bytesIn: 0, bytesOut: 7, framesIn: 0, framesOut: 1 });
    expect(peer.stats).toEqual({ bytesIn: 7, bytesOut: 0, framesIn: 1, framesOut: 0 });
  });
});

describe('FramedServer connections', () => {
  it('drops a connection from the set before its close listeners run', async () => {
    const server = resources.server(createServer());
    const seen: boolean[] = [];
    server.on('connection', (socket) => socket.on('close', () => seen.push(server.connections.has(socket))));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const client = resources.socket(await connect({ host: '127.0.0.1', port }));
    while (server.connections.size === 0) await new Promise(setImmediate);
    const [peer] = server.connections;
    expect(peer!.listenerCount('close')).toBe(1);
    const closed = new Promise((resolve) => peer!.once('close', resolve));
    client.destroy();
    await closed;
    expect(seen).toEqual([false]);
    expect(server.connections.size).toBe(0);
  });
});
