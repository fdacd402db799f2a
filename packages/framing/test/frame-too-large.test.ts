import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../src/decoder.js';
import { connect, FramedSocket, FrameTooLargeError } from '../src/index.js';
import { listenLocal, rawConnect, Resources } from './fixtures/helpers.js';

// ERR_FRAME_TOO_LARGE carries the header bytes as received, so an upper layer can tell a peer that
// speaks another protocol ("first bytes 48 54 54 50": an HTTP server) from one that sent a big frame.

const resources = new Resources();

afterEach(async () => {
  await resources.closeAll();
});

const HTTP = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');

function tooLarge(decoder: FrameDecoder, chunks: readonly Buffer[]): FrameTooLargeError {
  try {
    for (const chunk of chunks) decoder.push(chunk, () => {});
  } catch (error) {
    expect(error).toBeInstanceOf(FrameTooLargeError);
    return error as FrameTooLargeError;
  }
  throw new Error('expected ERR_FRAME_TOO_LARGE');
}

describe('ERR_FRAME_TOO_LARGE from the decoder', () => {
  it('carries the header bytes that announced the length (uint32be fast path)', () => {
    const error = tooLarge(new FrameDecoder(), [HTTP]);
    expect(error.message).toContain('1213486160');
    expect(error.headerBytes).toEqual(Buffer.from('HTTP'));
    expect(error.announcedBytes).toBe(1213486160);
  });

  it('carries them when the header straddles chunks, as a copy that later pushes cannot change', () => {
    const first = Buffer.from('HT');
    const error = tooLarge(new FrameDecoder(), [first, HTTP.subarray(2)]);
    expect(error.headerBytes).toEqual(Buffer.from('HTTP'));
    first.fill(0);
    expect(error.headerBytes).toEqual(Buffer.from('HTTP'));
  });

  it('carries them after earlier frames in the same chunk, and for other prefixes', () => {
    const chunk = Buffer.concat([Buffer.from([0, 0, 0, 1, 0x41]), HTTP]);
    expect(tooLarge(new FrameDecoder(), [chunk]).headerBytes).toEqual(Buffer.from('HTTP'));
    const le = tooLarge(new FrameDecoder({ lengthPrefix: 'uint32le' }), [HTTP]);
    expect(le.headerBytes).toEqual(Buffer.from('HTTP'));
    const varint = tooLarge(new FrameDecoder({ lengthPrefix: 'varint', maxFrameBytes: 100 }), [
      Buffer.from([0xc8, 0x01, 1, 2]),
    ]);
    expect(varint.headerBytes).toEqual(Buffer.from([0xc8, 0x01]));
    expect(varint.announcedBytes).toBe(200);
  });

  it('leaves headerBytes undefined for a frame refused by send()', () => {
    const socket = new FramedSocket(new PassThrough(), { maxFrameBytes: 10 });
    let caught: unknown;
    try {
      socket.send(Buffer.alloc(11));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FrameTooLargeError);
    expect((caught as FrameTooLargeError).headerBytes).toBeUndefined();
    socket.destroy();
  });
});

describe('ERR_FRAME_TOO_LARGE on a FramedSocket', () => {
  it('reaches the error event with the first bytes of a peer that speaks HTTP', async () => {
    const { port, accepted } = await listenLocal(resources);
    const raw = await rawConnect(resources, port);
    const socket = await accepted;
    const error = once(socket, 'error');
    raw.write(HTTP);
    const [caught] = (await error) as [FrameTooLargeError];
    expect(caught).toBeInstanceOf(FrameTooLargeError);
    expect(caught.headerBytes?.toString('hex')).toBe('48545450');
  });
});

describe('the sender of a frame over the receiver’s maxFrameBytes', () => {
  it('sees only the connection close (no code says why) while the receiver reports ERR_FRAME_TOO_LARGE', async () => {
    const { server, port } = await listenLocal(resources, { maxFrameBytes: 1000 });
    const clientErrors = once(server, 'clientError');
    const sender = resources.socket(await connect({ host: '127.0.0.1', port }));
    const errors: (string | undefined)[] = [];
    sender.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code));
    const closed = once(sender, 'close');
    expect(sender.send(Buffer.alloc(2000))).toBe(true); // the sender's own limit is the default 16 MiB
    const [received] = (await clientErrors) as [FrameTooLargeError];
    expect(received).toBeInstanceOf(FrameTooLargeError);
    expect(received.announcedBytes).toBe(2000);
    await closed;
    expect(sender.closed).toBe(true);
    // At most a reset (ECONNRESET) when bytes were still in flight; never the receiver's code.
    expect(errors.filter((code) => code !== 'ECONNRESET')).toEqual([]);
  });
});
