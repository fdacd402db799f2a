import { afterEach, describe, expect, it } from 'vitest';
import { NsSocket } from '@proto/ns';
import { next, openSocket, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

/** Collects `seq` events on every socket the server accepts; resolves when `count` arrived. */
function collect(server: { on(event: 'connection', listener: (socket: NsSocket) => void): unknown }, count: number): { values: unknown[]; done: Promise<void> } {
  const values: unknown[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  server.on('connection', (socket) =>
    socket.data('seq', (value) => {
      values.push(value);
      if (values.length === count) resolve();
    }),
  );
  return { values, done };
}

describe('offline queue', () => {
  it('sends made before connecting are flushed in order once connected', async () => {
    const { server, port } = await resources.server();
    const { values, done } = collect(server, 4);
    const client = resources.track(new NsSocket({ host: '127.0.0.1', port, offlineQueue: true }));
    client.send('seq', 1);
    client.send('seq', 2);
    client.send('seq', Buffer.from([3]));
    expect(client.stats.messagesOut).toBe(0);
    await client.connect();
    client.send('seq', 4);
    await done;
    expect(values).toEqual([1, 2, Buffer.from([3]), 4]);
    expect(client.stats.messagesOut).toBe(4);
  });

  it('sends made while reconnecting are flushed in order after the reconnect, before new sends', async () => {
    const { server, port } = await resources.server();
    const client = resources.track(
      new NsSocket({ host: '127.0.0.1', port, offlineQueue: { maxMessages: 100 }, reconnect: { initialDelayMs: 20, jitter: false } }),
    );
    await client.connect();
    const first = await openSocket(server);
    const { values, done } = collect(server, 5);
    const lost = next(client, 'disconnect');
    first.destroy();
    await lost;
    for (let i = 1; i <= 4; i++) expect(client.send('seq', i)).toBe(true);
    client.once('connect', () => client.send('seq', 5));
    await done;
    expect(values).toEqual([1, 2, 3, 4, 5]);
  });

  it('past maxMessages or maxBytes, send throws ERR_BUFFER_OVERFLOW and queues nothing', () => {
    const byCount = new NsSocket({ port: 1, offlineQueue: { maxMessages: 2 } });
    byCount.send('a', 1);
    byCount.send('a', 2);
    expect(() => byCount.send('a', 3)).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_OVERFLOW' }));
    const byBytes = new NsSocket({ port: 1, offlineQueue: { maxBytes: 64 } });
    byBytes.send('a', 'x'.repeat(40));
    expect(() => byBytes.send('a', 'y'.repeat(40))).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_OVERFLOW' }));
    byBytes.send('a', 'small');
  });

  it('a message larger than maxFrameBytes is refused at queue time', () => {
    const client = new NsSocket({ port: 1, offlineQueue: { maxBytes: 1 << 20 }, maxFrameBytes: 100 });
    expect(() => client.send('a', Buffer.alloc(200))).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }));
  });

  it('without a queue, send while disconnected throws ERR_NOT_CONNECTED', async () => {
    const client = new NsSocket({ port: 1 });
    expect(() => client.send('a', 1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    const { port } = await resources.server();
    await client.connect({ host: '127.0.0.1', port });
    expect(client.send('a', 1)).toBe(true);
    await client.end();
    expect(() => client.send('a', 1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
  });

  it('after close, send throws ERR_NOT_CONNECTED even with a queue', async () => {
    const client = new NsSocket({ port: 1, offlineQueue: true });
    client.send('a', 1);
    await client.end();
    expect(client.state).toBe('closed');
    expect(() => client.send('a', 1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
  });
});
