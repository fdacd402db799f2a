// The `onread` read path (socket-reader.ts): the kernel's reads are played by hand through the
// reader's own `buffer()`/`callback()` pair (a fake handle), at random sizes, with two sockets
// sharing the scratch buffer; then the same over real sockets, accepted and connected.
import { once } from 'node:events';
import * as net from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type FramedSocket } from '@proto/framing';
import { FrameDecoder } from '../src/decoder.js';
import { type ReadSink, SocketReader } from '../src/socket-reader.js';
import { Cleanup } from '../../../testing/cleanup.js';
import { fuzzParams } from '../../../testing/fuzz.js';
import { SeededRandom } from '../../../testing/random.js';
import { type PrefixName, referenceEncode } from '../../../testing/reference-frames.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface FakeSocket {
  reader: SocketReader;
  /** What Node calls the read callback on (the socket the reader is bound to). */
  holder: { destroyed: boolean; resume(): void };
  /** The buffer Node holds for the next read: asked for at creation, then right after every callback. */
  next: Uint8Array;
  replayed: number;
  /** The last callback returned false (hold limit): Node stops reading until resumed. */
  stopped: boolean;
  frames: Buffer[];
  errors: unknown[];
  bytes: number;
  stream: Buffer;
  at: number;
}

function fakeSocket(prefix: PrefixName, stream: Buffer, maxFrameBytes = 16 * 1024 * 1024): FakeSocket {
  const socket: FakeSocket = { ...boundReader(new SocketReader()), replayed: 0, stopped: false, frames: [], errors: [], bytes: 0, stream, at: 0 };
  const sink: ReadSink<FakeSocket> = {
    onFrame(frame) {
      this.frames.push(frame);
    },
    onBytes(bytes) {
      this.bytes += bytes;
    },
    onError(error) {
      this.errors.push(error);
    },
    onReplayed() {
      this.replayed++;
    },
  };
  socket.reader.attach(sink, new FrameDecoder({ lengthPrefix: prefix, maxFrameBytes }), socket);
  return socket;
}

/** A reader bound to a stand-in socket, with the first buffer Node would ask for (at the handle's creation). */
function boundReader(reader: SocketReader): Pick<FakeSocket, 'reader' | 'holder' | 'next'> {
  const holder = { destroyed: false, resume() {} };
  reader.bind(holder);
  return { reader, holder, next: reader.onread.buffer() };
}

/**
 * One kernel read of at most `max` bytes into the buffer the reader handed out, as Node's
 * onStreamRead does it: the callback on the socket, then at once `buffer()` (no `this`) for the
 * next read. Returns the size of the buffer read into.
 */
function kernelRead(socket: FakeSocket, max: number): number {
  const { buffer, callback } = socket.reader.onread;
  const target = socket.next;
  const count = Math.min(max, target.length, socket.stream.length - socket.at);
  target.set(socket.stream.subarray(socket.at, socket.at + count));
  socket.at += count;
  socket.stopped = !callback.call(socket.holder, count, target);
  socket.next = buffer();
  return target.length;
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function encodeAll(prefix: PrefixName, payloads: readonly Buffer[]): Buffer {
  return Buffer.concat(payloads.map((p) => referenceEncode(prefix, p)));
}

/** Payload `i` of `size` bytes, each byte telling where it belongs (so a misplaced byte shows). */
function payload(i: number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) bytes[j] = (i * 31 + j * 7 + (j >>> 8)) & 0xff;
  return bytes;
}

const SIZES = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 30_000, max: 70_000 }), fc.integer({ min: 200_000, max: 600_000 }));

describe('SocketReader (fake handle, random read sizes)', () => {
  it('two sockets sharing the scratch buffer, read at random sizes, decode like the reference; frames stay intact', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<PrefixName>('uint32be', 'varint'),
        fc.array(SIZES, { minLength: 1, maxLength: 12 }),
        fc.array(SIZES, { minLength: 1, maxLength: 12 }),
        fc.integer(),
        (prefix, sizesA, sizesB, seed) => {
          const payloadsA = sizesA.map((size, i) => payload(i, size));
          const payloadsB = sizesB.map((size, i) => payload(i + 100, size));
          const a = fakeSocket(prefix, encodeAll(prefix, payloadsA));
          const b = fakeSocket(prefix, encodeAll(prefix, payloadsB));
          const random = new SeededRandom(seed);
          while (a.at < a.stream.length || b.at < b.stream.length) {
            const socket = b.at >= b.stream.length || (a.at < a.stream.length && random.chance(0.5)) ? a : b;
            // Mostly whole buffers (a fast sender), sometimes a few bytes (a trickle).
            const max = random.chance(0.7) ? Number.MAX_SAFE_INTEGER : random.int(1, 5000);
            kernelRead(socket, max);
          }
          for (const [socket, payloads] of [[a, payloadsA], [b, payloadsB]] as const) {
            expect(socket.errors).toEqual([]);
            expect(socket.bytes).toBe(socket.stream.length);
            expect(socket.frames.length).toBe(payloads.length);
            // Compared after every read of both sockets: a frame left in the shared scratch would differ now.
            socket.frames.forEach((frame, i) => expect(frame.equals(payloads[i]!)).toBe(true));
          }
        },
      ),
      fuzzParams(60),
    );
  });

  it('paused at random points, a socket holds its reads and decodes them in order after resume', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<PrefixName>('uint32be', 'varint'),
        fc.array(SIZES, { minLength: 1, maxLength: 10 }),
        fc.integer(),
        async (prefix, sizes, seed) => {
          const payloads = sizes.map((size, i) => payload(i, size));
          const socket = fakeSocket(prefix, encodeAll(prefix, payloads));
          const random = new SeededRandom(seed);
          let paused = false;
          let deliveredWhilePaused = 0;
          while (socket.at < socket.stream.length) {
            if (random.chance(0.15)) {
              paused = !paused;
              if (paused) socket.reader.pause();
              else socket.reader.resume();
              if (!paused && random.chance(0.5)) await tick();
              if (!paused) socket.stopped = false;
            }
            // Node reads nothing more once a callback returned false, until the reader resumes it.
            if (socket.stopped) {
              paused = false;
              socket.reader.resume();
              socket.stopped = false;
              await tick();
            }
            const before = socket.frames.length;
            kernelRead(socket, random.chance(0.7) ? Number.MAX_SAFE_INTEGER : random.int(1, 5000));
            if (paused) deliveredWhilePaused += socket.frames.length - before;
          }
          socket.reader.resume();
          await tick();
          expect(deliveredWhilePaused).toBe(0);
          expect(socket.errors).toEqual([]);
          expect(socket.frames.length).toBe(payloads.length);
          socket.frames.forEach((frame, i) => expect(frame.equals(payloads[i]!)).toBe(true));
        },
      ),
      fuzzParams(40),
    );
  });

  it('reads a large payload in place once 1/8 of it has arrived, and never allocates from the announced length alone', () => {
    const announced = 16 * 1024 * 1024;
    const header = Buffer.from([0x01, 0x00, 0x00, 0x00]);
    const socket = fakeSocket('uint32be', Buffer.concat([header, payload(1, announced)]));
    // A trickle: the header, then 1000 single bytes.
    kernelRead(socket, 4);
    for (let i = 0; i < 1000; i++) expect(kernelRead(socket, 1)).toBeLessThanOrEqual(64 * 1024);
    // Up to 1/8 of the payload in big reads: buffers sized by what was received, never the frame.
    while (socket.at - 4 < announced / 8) expect(kernelRead(socket, Number.MAX_SAFE_INTEGER)).toBeLessThan(announced / 8);
    // Now the rest of the frame is one buffer: the kernel may fill it in one read.
    const missing = announced - (socket.at - 4);
    expect(kernelRead(socket, Number.MAX_SAFE_INTEGER)).toBe(missing);
    expect(socket.frames).toHaveLength(1);
    expect(socket.frames[0]!.equals(socket.stream.subarray(4))).toBe(true);
  });

  it('a large payload a few bytes past a power of two (an ns event: 1 MiB + its prefix) takes one piece, then is read in place', () => {
    const size = 1024 * 1024 + 12;
    const socket = fakeSocket('uint32be', Buffer.concat([encodeAll('uint32be', [payload(1, size)]), encodeAll('uint32be', [payload(2, 10)])]));
    // Between frames the kernel reads into the scratch buffer (64 KiB: the header and the start).
    expect(kernelRead(socket, Number.MAX_SAFE_INTEGER)).toBe(64 * 1024);
    // One piece brings the frame to 1/8 received (was: a 64 KiB piece 12 bytes short, then a 128 KiB one).
    const piece = kernelRead(socket, Number.MAX_SAFE_INTEGER);
    expect(piece).toBeLessThanOrEqual(2 * 64 * 1024);
    expect((socket.at - 4) * 8).toBeGreaterThanOrEqual(size);
    // The rest lands in the frame's own buffer in one read.
    const rest = size - (socket.at - 4);
    expect(kernelRead(socket, Number.MAX_SAFE_INTEGER)).toBe(rest);
    expect(socket.frames).toHaveLength(1);
    expect(socket.frames[0]!.equals(payload(1, size))).toBe(true);
    kernelRead(socket, Number.MAX_SAFE_INTEGER);
    expect(socket.frames.map((f) => f.length)).toEqual([size, 10]);
    expect(socket.frames[1]!.equals(payload(2, 10))).toBe(true);
  });

  it('after a frame read in place, the next read gets a buffer of its own: its frames are views of it, not copies, and stay intact', () => {
    const size = 1024 * 1024;
    const small = Array.from({ length: 40 }, (_, i) => payload(10 + i, 1000 + i));
    const socket = fakeSocket('uint32be', Buffer.concat([encodeAll('uint32be', [payload(1, size)]), encodeAll('uint32be', small)]));
    while (socket.frames.length === 0) kernelRead(socket, Number.MAX_SAFE_INTEGER);
    const target = socket.next;
    const count = Math.min(target.length, socket.stream.length - socket.at);
    expect(count).toBeGreaterThanOrEqual(target.length / 2);
    expect(kernelRead(socket, Number.MAX_SAFE_INTEGER)).toBe(target.length);
    expect(socket.frames).toHaveLength(1 + small.length);
    for (const frame of socket.frames.slice(1)) expect(frame.buffer).toBe(target.buffer);
    // The next read between small frames uses the shared scratch buffer again (copied out).
    const next = encodeAll('uint32be', [payload(99, 10)]);
    socket.stream = Buffer.concat([socket.stream, next]);
    kernelRead(socket, Number.MAX_SAFE_INTEGER);
    expect(socket.frames.at(-1)!.buffer).not.toBe(target.buffer);
    expect(socket.frames.map((f) => f.length)).toEqual([size, ...small.map((p) => p.length), 10]);
    socket.frames.forEach((frame, i) => expect(frame.equals(i === 0 ? payload(1, size) : i <= small.length ? small[i - 1]! : payload(99, 10))).toBe(true));
  });

  it('keeps reads made before the socket is attached, in order', async () => {
    const bound = boundReader(new SocketReader());
    const stream = encodeAll('uint32be', [payload(1, 10), payload(2, 40_000)]);
    const socket = { ...fakeSocket('uint32be', stream), ...bound };
    kernelRead(socket, 20);
    const frames: Buffer[] = [];
    bound.reader.attach(sinkOf(frames), new FrameDecoder(), undefined);
    expect(frames).toEqual([]); // delivered at the next tick, never inside attach()
    await tick();
    expect(frames.map((f) => f.length)).toEqual([10]);
    kernelRead(socket, Number.MAX_SAFE_INTEGER);
    kernelRead(socket, Number.MAX_SAFE_INTEGER);
    expect(frames.map((f) => f.length)).toEqual([10, 40_000]);
    expect(frames[1]!.equals(payload(2, 40_000))).toBe(true);
  });

  it('reports a decoding error once, through onError', () => {
    const socket = fakeSocket('uint32be', Buffer.from([0x00, 0x10, 0x00, 0x00, 1, 2, 3]), 1024);
    kernelRead(socket, Number.MAX_SAFE_INTEGER);
    expect(socket.errors).toHaveLength(1);
    expect((socket.errors[0] as { code?: string }).code).toBe('ERR_FRAME_TOO_LARGE');
  });
});

function sinkOf(frames: Buffer[]): ReadSink<undefined> {
  return {
    onFrame: (frame) => frames.push(frame),
    onBytes: () => {},
    onError: (error) => {
      throw error;
    },
    onReplayed: () => {},
  };
}

describe('onread over real sockets', () => {
  async function pair(): Promise<{ accepted: FramedSocket; client: FramedSocket }> {
    const server = createServer();
    cleanup.add(server, (s) => s.close({ timeoutMs: 500 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const accepted = once(server, 'connection');
    const client = await connect({ host: '127.0.0.1', port });
    cleanup.add(client, (c) => c.destroy());
    const [peer] = (await accepted) as [FramedSocket];
    return { accepted: peer, client };
  }

  function collect(socket: FramedSocket, count: number): Promise<Buffer[]> {
    const frames: Buffer[] = [];
    return new Promise((resolve) => {
      socket.on('frame', (frame) => {
        frames.push(frame);
        if (frames.length === count) resolve(frames);
      });
    });
  }

  it('an accepted socket decodes frames of every size written at random split points', async () => {
    const server = createServer();
    cleanup.add(server, (s) => s.close({ timeoutMs: 500 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const accepted = once(server, 'connection');
    const raw = net.connect({ host: '127.0.0.1', port, noDelay: true });
    cleanup.add(raw, (r) => r.destroy());
    const [peer] = (await accepted) as [FramedSocket];
    const random = new SeededRandom(7);
    const payloads = Array.from({ length: 40 }, (_, i) => payload(i, random.chance(0.5) ? random.int(0, 200) : random.int(30_000, 1_100_000)));
    const got = collect(peer, payloads.length);
    const stream = encodeAll('uint32be', payloads);
    for (let at = 0; at < stream.length; ) {
      const size = random.chance(0.8) ? random.int(1, 300_000) : random.int(1, 10);
      const chunk = stream.subarray(at, at + size);
      at += chunk.length;
      // Each piece waits for the last to be written: the reads see many different boundaries.
      await new Promise<void>((resolve, reject) => raw.write(chunk, (error) => (error ? reject(error) : resolve())));
    }
    const frames = await got;
    frames.forEach((frame, i) => expect(frame.equals(payloads[i]!)).toBe(true));
    expect(peer.stats.bytesIn).toBe(stream.length);
  });

  it('both directions carry large and small frames through connect() and createServer()', async () => {
    const { accepted, client } = await pair();
    const payloads = [payload(1, 1024 * 1024), payload(2, 3), payload(3, 100_000), payload(4, 0), payload(5, 2 * 1024 * 1024)];
    const atServer = collect(accepted, payloads.length);
    const atClient = collect(client, payloads.length);
    for (const p of payloads) client.send(p);
    for (const p of payloads) accepted.send(p);
    for (const frames of [await atServer, await atClient]) frames.forEach((frame, i) => expect(frame.equals(payloads[i]!)).toBe(true));
  });

  it('pause() stops delivery on an onread socket and resume() brings the rest', async () => {
    const { accepted, client } = await pair();
    accepted.pause();
    let received = 0;
    accepted.on('frame', () => received++);
    client.send(payload(1, 500_000));
    await client.drained();
    // A round trip the other way: the paused side still writes, and the frame has had time to arrive.
    const echo = once(client, 'frame');
    accepted.send('ping');
    await echo;
    expect(received).toBe(0);
    const arrived = once(accepted, 'frame');
    accepted.resume();
    const [frame] = (await arrived) as [Buffer];
    expect(frame.equals(payload(1, 500_000))).toBe(true);
  });

  it('the peer ending mid-frame is ERR_UNEXPECTED_EOF on an accepted socket', async () => {
    const server = createServer();
    cleanup.add(server, (s) => s.close({ timeoutMs: 500 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const accepted = once(server, 'connection');
    const raw = net.connect({ host: '127.0.0.1', port });
    cleanup.add(raw, (r) => r.destroy());
    const [peer] = (await accepted) as [FramedSocket];
    const failed = once(peer, 'error');
    raw.end(referenceEncode('uint32be', payload(1, 200_000)).subarray(0, 150_000));
    const [error] = (await failed) as [{ code?: string }];
    expect(error.code).toBe('ERR_UNEXPECTED_EOF');
  });
});
