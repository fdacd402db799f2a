import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferOverflowError, connect, FramedSocket, type FramedSocketOptions } from '../src/index.js';
import { listenLocal, Resources } from './fixtures/helpers.js';

// Backpressure as Node's sockets mean it (SPEC, issue 9): `false` and `pause` only when bytes really
// remain queued after the write; a frame the stream took at once returns `true`, however large.

const resources = new Resources();

afterEach(async () => {
  await resources.closeAll();
});

/** A Duplex whose writes complete at once, inside `write()`: like a kernel that takes every byte. */
function eagerDuplex(): Duplex & { writtenBytes: number } {
  const stream = Object.assign(
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        stream.writtenBytes += chunk.length;
        callback();
      },
      writev(chunks, callback) {
        for (const { chunk } of chunks) stream.writtenBytes += (chunk as Buffer).length;
        callback();
      },
    }),
    { writtenBytes: 0 },
  );
  return stream;
}

/** A Duplex that holds every write until the test calls `release()`: a kernel buffer that is full. */
function heldDuplex(): Duplex & { release(): void; held: number } {
  const callbacks: (() => void)[] = [];
  const stream = Object.assign(
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        stream.held += chunk.length;
        callbacks.push(() => callback());
      },
    }),
    {
      held: 0,
      release(): void {
        stream.held = 0;
        // Completing one write lets the stream hand over the next; release until all are done.
        while (callbacks.length > 0) callbacks.shift()!();
      },
    },
  );
  return stream;
}

function track(socket: FramedSocket): { pauses: number[]; resumes: number } {
  const seen = { pauses: [] as number[], resumes: 0 };
  socket.on('pause', () => seen.pauses.push(socket.bufferedBytes));
  socket.on('resume', () => seen.resumes++);
  return seen;
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('FramedSocket backpressure: false and pause mean bytes are queued', () => {
  it('returns true for a frame as large as highWaterMark that the stream took at once, with no pause', async () => {
    const stream = eagerDuplex();
    const socket = new FramedSocket(stream, { highWaterMark: 64 * 1024 });
    const seen = track(socket);
    expect(socket.send(Buffer.alloc(64 * 1024))).toBe(true);
    expect(socket.bufferedBytes).toBe(0);
    expect(socket.send(Buffer.alloc(4 * 1024 * 1024))).toBe(true);
    expect(socket.bufferedBytes).toBe(0);
    await tick();
    expect(seen).toEqual({ pauses: [], resumes: 0 });
    expect(stream.writtenBytes).toBe(64 * 1024 + 4 * 1024 * 1024 + 8);
    socket.destroy();
  });

  it('flushes small frames at once when they reach highWaterMark, and returns true when the stream takes them', async () => {
    const stream = eagerDuplex();
    const socket = new FramedSocket(stream, { highWaterMark: 1024 });
    const seen = track(socket);
    for (let i = 0; i < 10; i++) expect(socket.send(Buffer.alloc(600))).toBe(true);
    await tick();
    expect(seen).toEqual({ pauses: [], resumes: 0 });
    expect(stream.writtenBytes).toBe(10 * 604);
    socket.destroy();
  });

  it('returns false and pauses only while bytes remain queued, then resumes once they leave', async () => {
    const stream = heldDuplex();
    const socket = new FramedSocket(stream, { highWaterMark: 64 * 1024 });
    const seen = track(socket);
    expect(socket.send(Buffer.alloc(40 * 1024))).toBe(true); // queued, but under the mark
    expect(socket.bufferedBytes).toBe(40 * 1024 + 4);
    expect(socket.send(Buffer.alloc(40 * 1024))).toBe(false);
    expect(seen.pauses).toEqual([80 * 1024 + 8]);
    expect(socket.bufferedBytes).toBeGreaterThan(0);
    expect(socket.send(Buffer.alloc(10))).toBe(false); // still paused, still accepted
    expect(seen.pauses.length).toBe(1);

    const drained = socket.drained();
    const resumed = once(socket, 'resume');
    await tick();
    stream.release();
    await resumed;
    await drained;
    expect(seen.resumes).toBe(1);
    expect(socket.bufferedBytes).toBe(0);
    socket.destroy();
  });

  it('keeps bufferedBytes above 0 from pause to resume over TCP with a stalled reader', async () => {
    const { port, accepted } = await listenLocal(resources);
    const options: FramedSocketOptions = { highWaterMark: 256 * 1024 };
    const client = resources.socket(await connect({ host: '127.0.0.1', port, ...options }));
    const peer = await accepted;
    peer.pause();
    const seen = track(client);
    let sent = 0;
    while (client.send(Buffer.alloc(1024 * 1024)) && sent < 1000) sent++;
    expect(seen.pauses.length).toBe(1);
    expect(seen.pauses[0]).toBeGreaterThan(0);
    expect(client.bufferedBytes).toBeGreaterThanOrEqual(256 * 1024);
    // The reader is stalled, so the bytes stay queued whatever the event loop does meanwhile.
    for (let i = 0; i < 5; i++) await tick();
    expect(seen.resumes).toBe(0);
    expect(client.bufferedBytes).toBeGreaterThan(0);
    const resumed = once(client, 'resume');
    peer.resume();
    await resumed;
    expect(seen.pauses.length).toBe(1);
    expect(client.bufferedBytes).toBeLessThanOrEqual(128 * 1024);
  });

  it('refuses a send past maxBufferedBytes with ERR_BUFFER_OVERFLOW and writes none of it', () => {
    const stream = heldDuplex();
    const socket = new FramedSocket(stream, { highWaterMark: 1024, maxBufferedBytes: 100 * 1024 });
    socket.send(Buffer.alloc(60 * 1024));
    const held = stream.held;
    const buffered = socket.bufferedBytes;
    expect(() => socket.send(Buffer.alloc(60 * 1024))).toThrow(BufferOverflowError);
    expect(stream.held).toBe(held);
    expect(socket.bufferedBytes).toBe(buffered);
    expect(socket.stats.framesOut).toBe(1);
    socket.destroy();
  });
});
