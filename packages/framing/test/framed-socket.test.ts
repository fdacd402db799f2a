import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortedError,
  BufferOverflowError,
  ConnectionClosedError,
  connect,
  encodeFrame,
  FramedSocket,
  type FramedSocketOptions,
  FrameTooLargeError,
  InvalidArgError,
  NotConnectedError,
  ProtoError,
  type ServerOptions,
  UnexpectedEofError,
} from '../src/index.js';
import { collectFrames, listenLocal, rawConnect, Resources } from './fixtures/helpers.js';

const resources = new Resources();

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await resources.closeAll();
});

/** A connected client/server pair of FramedSockets over loopback TCP. */
async function pair(
  clientOptions: FramedSocketOptions = {},
  serverOptions: ServerOptions = {},
): Promise<{ client: FramedSocket; peer: FramedSocket }> {
  const { port, accepted } = await listenLocal(resources, serverOptions);
  const client = resources.socket(await connect({ host: '127.0.0.1', port, ...clientOptions }));
  const peer = await accepted;
  return { client, peer };
}

/** Resolves with `close`'s argument; unlike events.once it does not reject on an earlier `error`. */
function closeOf(socket: FramedSocket): Promise<[boolean]> {
  return new Promise((resolve) => socket.once('close', (hadError) => resolve([hadError])));
}

/** A frame of `size` bytes whose first 4 bytes hold `index` and the rest a byte derived from it. */
function numbered(index: number, size: number): Buffer {
  const frame = Buffer.alloc(size, index & 0xff);
  frame.writeUInt32BE(index, 0);
  return frame;
}

function expectNumbered(frames: readonly Buffer[], size: number): void {
  frames.forEach((frame, index) => {
    expect(frame.length).toBe(size);
    expect(frame.readUInt32BE(0)).toBe(index);
    expect(frame[size - 1]).toBe(size > 4 ? index & 0xff : frame[size - 1]);
  });
}

/** A Duplex that records what is written and lets the test push inbound bytes. */
function memoryDuplex(): Duplex & { written: Buffer[] } {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(Buffer.from(chunk));
      callback();
    },
  });
  return Object.assign(stream, { written });
}

describe('FramedSocket over TCP', () => {
  it('sends bytes, strings, empty frames and arrays as single frames', async () => {
    const { client, peer } = await pair();
    const frames = collectFrames(peer, 5);
    expect(client.send(Buffer.from('bytes'))).toBe(true);
    expect(client.send('héllo ✓')).toBe(true);
    expect(client.send(new Uint8Array(0))).toBe(true);
    expect(client.send(['head:', Buffer.from('body'), new Uint8Array([0x21]), ''])).toBe(true);
    expect(client.send([])).toBe(true);
    expect((await frames).map((f) => f.toString())).toEqual(['bytes', 'héllo ✓', '', 'head:body!', '']);
  });

  it('keeps order across small and large frames sent in one tick', async () => {
    const { client, peer } = await pair();
    const sizes = [10, 200_000, 3, 16 * 1024, 16 * 1024 - 1, 1, 70_000, 5];
    const frames = collectFrames(peer, sizes.length);
    sizes.forEach((size, index) => client.send(numbered(index, Math.max(size, 4))));
    const received = await frames;
    expect(received.map((f) => f.length)).toEqual(sizes.map((s) => Math.max(s, 4)));
    received.forEach((frame, index) => expect(frame.readUInt32BE(0)).toBe(index));
  });

  it('delivers an array payload with large and string parts as one frame, body not copied', async () => {
    const { client, peer } = await pair();
    const write = vi.spyOn(client.stream, 'write');
    const body = Buffer.alloc(100_000, 7);
    const bigText = 'z'.repeat(20_000);
    const frame = collectFrames(peer, 1);
    client.send([Buffer.from([1, 2]), body, 'tail', bigText]);
    const [received] = await frame;
    const expected = Buffer.concat([Buffer.from([1, 2]), body, Buffer.from('tail'), Buffer.from(bigText)]);
    expect(received!.equals(expected)).toBe(true);
    expect(write.mock.calls.some(([chunk]) => chunk === body)).toBe(true);
  });

  it('writes a 1 MiB payload without copying it', async () => {
    const { client, peer } = await pair();
    const write = vi.spyOn(client.stream, 'write');
    const payload = Buffer.alloc(1024 * 1024, 0xab);
    const frame = collectFrames(peer, 1);
    client.send(payload);
    const [received] = await frame;
    expect(received!.equals(payload)).toBe(true);
    expect(write.mock.calls.some(([chunk]) => chunk === payload)).toBe(true);
  });

  it('coalesces 1000 small sends of one tick into a few stream writes, in order', async () => {
    const { client, peer } = await pair();
    const write = vi.spyOn(client.stream, 'write');
    const frames = collectFrames(peer, 1000);
    for (let i = 0; i < 1000; i++) client.send(i % 2 === 0 ? `message ${String(i)}` : Buffer.from(`message ${String(i)}`));
    expect(write).not.toHaveBeenCalled(); // nothing leaves before the tick ends
    const received = await frames;
    expect(received.map((f) => f.toString())).toEqual(Array.from({ length: 1000 }, (_, i) => `message ${String(i)}`));
    expect(write.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(write.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it('sends a lone small frame on the next tick without waiting for more', async () => {
    const { client } = await pair();
    const write = vi.spyOn(client.stream, 'write');
    client.send('ping');
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(write).toHaveBeenCalledTimes(1);
    expect(write.mock.calls[0]![0]).toEqual(encodeFrame(Buffer.from('ping')));
  });

  it('applies backpressure: pause when a reader stops, resume and drained() when it reads again', async () => {
    const { client, peer } = await pair({ highWaterMark: 256 * 1024 });
    peer.pause();
    const size = 64 * 1024;
    let pauses = 0;
    let resumes = 0;
    client.on('pause', () => pauses++);
    client.on('resume', () => resumes++);
    let sent = 0;
    let accepted = true;
    while (accepted && sent < 5000) accepted = client.send(numbered(sent++, size));
    expect(accepted).toBe(false);
    expect(pauses).toBe(1);
    expect(client.bufferedBytes).toBeGreaterThanOrEqual(256 * 1024);
    expect(client.send(numbered(sent++, size))).toBe(false); // still paused, still accepted
    expect(pauses).toBe(1);

    const resumed = once(client, 'resume');
    const drained = client.drained();
    const frames = collectFrames(peer, sent);
    peer.resume();
    await resumed;
    await drained;
    expect(resumes).toBe(1);
    expect(client.bufferedBytes).toBeLessThanOrEqual(128 * 1024);
    expectNumbered(await frames, size);
  });

  it('refuses a send past maxBufferedBytes without writing any part of it', async () => {
    const { client, peer } = await pair({ highWaterMark: 64 * 1024, maxBufferedBytes: 1024 * 1024 });
    peer.pause();
    const size = 100 * 1024;
    let sent = 0;
    let error: unknown;
    const write = vi.spyOn(client.stream, 'write');
    try {
      for (; sent < 10_000; sent++) client.send(numbered(sent, size));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BufferOverflowError);
    expect((error as ProtoError).code).toBe('ERR_BUFFER_OVERFLOW');
    const writesBefore = write.mock.calls.length;
    const bufferedBefore = client.bufferedBytes;
    expect(() => client.send(numbered(sent, size))).toThrow(BufferOverflowError);
    expect(write.mock.calls.length).toBe(writesBefore);
    expect(client.bufferedBytes).toBe(bufferedBefore);
    expect(client.stats.framesOut).toBe(sent);

    // The peer decodes exactly the accepted frames, each complete, and a clean end (no partial frame).
    const frames: Buffer[] = [];
    peer.on('frame', (frame) => frames.push(Buffer.from(frame)));
    const errors: Error[] = [];
    peer.on('error', (e) => errors.push(e));
    const closed = closeOf(peer);
    peer.resume();
    await client.end();
    await closed;
    expect(errors).toEqual([]);
    expect(frames.length).toBe(sent);
    expectNumbered(frames, size);
  });

  it('refuses a frame over maxFrameBytes locally, before writing', async () => {
    const { client } = await pair({ maxFrameBytes: 1000 });
    const write = vi.spyOn(client.stream, 'write');
    expect(() => client.send(Buffer.alloc(1001))).toThrow(FrameTooLargeError);
    expect(() => client.send(['x'.repeat(600), Buffer.alloc(401)])).toThrow(FrameTooLargeError);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(write).not.toHaveBeenCalled();
    expect(client.stats.framesOut).toBe(0);
    expect(client.send(Buffer.alloc(1000))).toBe(true);
  });

  it('reads and writes maxFrameBytes, applying it to inbound frames too', async () => {
    const { client, peer } = await pair();
    expect(peer.maxFrameBytes).toBe(16 * 1024 * 1024);
    peer.maxFrameBytes = 10;
    expect(peer.maxFrameBytes).toBe(10);
    expect(() => {
      peer.maxFrameBytes = 0;
    }).toThrow(InvalidArgError);
    const error = once(peer, 'error');
    const closed = closeOf(peer);
    client.send('this is more than ten bytes');
    const [received] = (await error) as [Error];
    expect(received).toBeInstanceOf(FrameTooLargeError);
    expect((received as ProtoError).code).toBe('ERR_FRAME_TOO_LARGE');
    expect(await closed).toEqual([true]);
    expect(peer.closed).toBe(true);
  });

  it('reports a stream that ends mid-frame as ERR_UNEXPECTED_EOF', async () => {
    const { server, port } = await listenLocal(resources);
    const raw = await rawConnect(resources, port);
    const [[error, socket]] = await Promise.all([
      once(server, 'clientError') as Promise<[Error, FramedSocket]>,
      new Promise<void>((resolve) => raw.end(Buffer.from([0, 0, 0, 10, 1, 2, 3]), resolve)),
    ]);
    expect(error).toBeInstanceOf(UnexpectedEofError);
    expect((error as ProtoError).code).toBe('ERR_UNEXPECTED_EOF');
    expect(socket).toBeInstanceOf(FramedSocket);
  });

  it('pauses and resumes inbound reading', async () => {
    const { client, peer } = await pair();
    peer.pause();
    let received = 0;
    peer.on('frame', () => received++);
    client.send('one');
    await client.drained();
    // The peer is paused: give the bytes a round trip to arrive, which they must not be delivered on.
    const echo = collectFrames(client, 1);
    peer.send('ack');
    await echo;
    expect(received).toBe(0);
    const frames = collectFrames(peer, 1);
    peer.resume();
    expect((await frames)[0]!.toString()).toBe('one');
  });

  it('counts bytes and frames, headers included', async () => {
    const { client, peer } = await pair();
    const frames = collectFrames(peer, 2);
    client.send('abc');
    client.send(['de', Buffer.from('f')]);
    await frames;
    expect(client.stats).toEqual({ bytesIn: 0, bytesOut: 14, framesIn: 0, framesOut: 2 });
    expect(peer.stats).toEqual({ bytesIn: 14, bytesOut: 0, framesIn: 2, framesOut: 0 });
  });

  it('knows the remote address and port, and keeps them after close', async () => {
    const { client, peer } = await pair();
    expect(client.remoteAddress).toBe('127.0.0.1');
    expect(client.remotePort).toBe((client.stream as import('node:net').Socket).remotePort);
    expect(peer.remotePort).toBe((client.stream as import('node:net').Socket).localPort);
    const port = client.remotePort;
    client.destroy();
    await closeOf(client);
    expect(client.remoteAddress).toBe('127.0.0.1');
    expect(client.remotePort).toBe(port);
  });

  it('end() flushes pending frames, resolves on close, and refuses later sends', async () => {
    const { client, peer } = await pair();
    const frames = collectFrames(peer, 3);
    const peerClosed = closeOf(peer);
    client.send('a');
    client.send(Buffer.alloc(50_000, 1));
    client.send('c');
    const ended = client.end();
    expect(() => client.send('late')).toThrow(NotConnectedError);
    const received = await frames;
    expect(received.map((f) => f.length)).toEqual([1, 50_000, 1]);
    await ended;
    await peerClosed;
    expect(client.closed).toBe(true);
    await expect(client.end()).resolves.toBeUndefined();
    await expect(client.drained()).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('flushes what it sends while its peer half-closes', async () => {
    const { client, peer } = await pair();
    peer.on('frame', (frame) => {
      // The peer answers in the same tick as it learns the client is done sending.
      peer.send(['re:', frame]);
    });
    const replies = collectFrames(client, 2);
    client.send('q1');
    client.send('q2');
    const ended = client.end();
    expect((await replies).map(String)).toEqual(['re:q1', 're:q2']);
    await ended;
  });

  it('refuses sends once its stream is destroyed under it, before close is emitted', async () => {
    const { client } = await pair();
    const closed = closeOf(client);
    // What a write error does: the stream is destroyed now, its error and close come at nextTick.
    client.stream.destroy();
    expect(client.closed).toBe(false);
    expect(() => client.send('dropped')).toThrow(NotConnectedError);
    await closed;
  });

  it('a sender looping in microtasks learns that the peer is gone', async () => {
    const { client, peer } = await pair();
    const payload = Buffer.alloc(1 << 20, 1);
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    const peerClosed = closeOf(peer);
    peer.destroy();
    await peerClosed;
    let accepted = 0;
    let refused: unknown;
    // Never yields to the event loop unless send() returns false: only send() can stop it.
    for (let i = 0; i < 100_000; i++) {
      try {
        if (!client.send(payload)) await client.drained();
        accepted++;
      } catch (error) {
        refused = error;
        break;
      }
    }
    // send() throws ERR_NOT_CONNECTED, or a drained() wait under way rejects with ERR_CONNECTION_CLOSED.
    expect((refused as { code?: string }).code).toMatch(/^ERR_(NOT_CONNECTED|CONNECTION_CLOSED)$/);
    expect(accepted).toBeLessThan(100_000);
    if (!client.closed) await closeOf(client);
    for (const error of errors) expect((error as NodeJS.ErrnoException).code).toMatch(/^(EPIPE|ECONNRESET)$/);
  });

  it('destroy(err) emits that error, then close(true); later destroys are no-ops', async () => {
    const { client } = await pair();
    const events: string[] = [];
    client.on('error', (e) => events.push(`error:${e.message}`));
    client.on('close', (hadError) => events.push(`close:${String(hadError)}`));
    const closed = closeOf(client);
    client.destroy(new Error('bye'));
    client.destroy(new Error('again'));
    await closed;
    expect(events).toEqual(['error:bye', 'close:true']);
    expect(() => client.send('x')).toThrow(NotConnectedError);
  });

  it('rejects pending drained() with ERR_CONNECTION_CLOSED when the socket closes', async () => {
    const { client, peer } = await pair({ highWaterMark: 1024 });
    peer.pause();
    while (client.send(Buffer.alloc(64 * 1024))) {
      /* fill */
    }
    const drained = client.drained();
    client.destroy();
    await expect(drained).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('drained() honours an AbortSignal and removes its listener', async () => {
    const { client, peer } = await pair({ highWaterMark: 1024 });
    peer.pause();
    while (client.send(Buffer.alloc(64 * 1024))) {
      /* fill */
    }
    const controller = new AbortController();
    const drained = client.drained({ signal: controller.signal });
    controller.abort();
    await expect(drained).rejects.toBeInstanceOf(AbortedError);
    await expect(client.drained({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);

    const second = new AbortController();
    const spy = vi.spyOn(second.signal, 'removeEventListener');
    const waiting = client.drained({ signal: second.signal });
    peer.resume();
    await waiting;
    expect(spy).toHaveBeenCalledWith('abort', expect.any(Function));
  });

  it('turns an exception in a frame listener into an error on that socket', async () => {
    const { client, peer } = await pair();
    peer.on('frame', () => {
      throw new Error('listener bug');
    });
    const [error] = (await Promise.all([once(peer, 'error'), client.send('x')]))[0] as [Error];
    expect(error.message).toBe('listener bug');
    await closeOf(peer);
  });

  it('emits timeout after idleTimeoutMs without traffic, over a net.Socket', async () => {
    const { client, peer } = await pair({ idleTimeoutMs: 30 });
    const started = Date.now();
    const frames = collectFrames(peer, 1);
    client.send('activity');
    await frames;
    await once(client, 'timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(client.closed).toBe(false);
  });

  it('releases its stream listeners when it closes', async () => {
    const { client } = await pair({ idleTimeoutMs: 10_000 });
    const stream = client.stream;
    const ours = (event: string): number => stream.listeners(event).filter((fn) => /^#?stream/.test(fn.name)).length;
    expect([ours('data'), ours('end'), ours('close'), ours('timeout')]).toEqual([1, 1, 1, 1]);
    client.destroy();
    await closeOf(client);
    expect([ours('data'), ours('end'), ours('close'), ours('timeout')]).toEqual([0, 0, 0, 0]);
  });

  it('validates its options', () => {
    const stream = memoryDuplex();
    expect(() => new FramedSocket(stream, { highWaterMark: 0 })).toThrow(InvalidArgError);
    expect(() => new FramedSocket(stream, { highWaterMark: 10, lowWaterMark: 11 })).toThrow(InvalidArgError);
    expect(() => new FramedSocket(stream, { highWaterMark: 10, maxBufferedBytes: 5 })).toThrow(InvalidArgError);
    expect(() => new FramedSocket(stream, { idleTimeoutMs: -1 })).toThrow(InvalidArgError);
    expect(() => new FramedSocket(stream, { lengthPrefix: 'uint64' as 'uint8' })).toThrow(InvalidArgError);
    expect(() => new FramedSocket(stream, { lengthPrefix: 'uint8', maxFrameBytes: 256 })).toThrow(InvalidArgError);
    const socket = new FramedSocket(stream);
    expect(() => socket.send(42 as unknown as string)).toThrow(InvalidArgError);
    expect(() => socket.send([Buffer.from('a'), 42 as unknown as string])).toThrow(InvalidArgError);
    socket.destroy();
  });
});

describe('FramedSocket over any Duplex', () => {
  it('frames with a custom length prefix', async () => {
    const stream = memoryDuplex();
    const socket = new FramedSocket(stream, { lengthPrefix: 'varint' });
    socket.send('x'.repeat(200));
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(stream.written).toHaveLength(1);
    expect(stream.written[0]!.subarray(0, 2)).toEqual(Buffer.from([0xc8, 0x01]));
    const frame = once(socket, 'frame');
    stream.push(Buffer.from([0x03, 0x61, 0x62, 0x63]));
    expect(String((await frame)[0])).toBe('abc');
    socket.destroy();
  });

  it('emits timeout from a single refreshed timer (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const stream = memoryDuplex();
    const socket = new FramedSocket(stream, { idleTimeoutMs: 1000 });
    let timeouts = 0;
    socket.on('timeout', () => timeouts++);
    await vi.advanceTimersByTimeAsync(900);
    socket.send('keeps it alive');
    await vi.advanceTimersByTimeAsync(900);
    expect(timeouts).toBe(0);
    stream.push(Buffer.from([0, 0, 0, 0]));
    await vi.advanceTimersByTimeAsync(999);
    expect(timeouts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(timeouts).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    stream.push(Buffer.from([0, 0, 0, 0])); // traffic re-arms it
    await vi.advanceTimersByTimeAsync(1000);
    expect(timeouts).toBe(2);
    const closed = closeOf(socket);
    socket.destroy();
    await closed;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports garbage from the stream as a typed error and closes', async () => {
    const stream = memoryDuplex();
    const socket = new FramedSocket(stream, { maxFrameBytes: 100 });
    const error = once(socket, 'error');
    const closed = closeOf(socket);
    stream.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    expect((await error)[0]).toBeInstanceOf(FrameTooLargeError);
    expect(await closed).toEqual([true]);
  });

  it('reports EOF inside a frame', async () => {
    const stream = memoryDuplex();
    const socket = new FramedSocket(stream);
    const error = once(socket, 'error');
    stream.push(Buffer.from([0, 0, 0, 9, 1]));
    stream.push(null);
    expect((await error)[0]).toBeInstanceOf(UnexpectedEofError);
  });
});
