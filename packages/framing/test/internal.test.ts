import { EventEmitter, once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  BoundedCache,
  deferred,
  emitErrorIfListened,
  integerOption,
  partBytes,
  payloadBytes,
  setFrameHandler,
  toError,
} from '@proto/framing/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, encodeFrame, FramedSocket, InvalidArgError } from '../src/index.js';
import { listenLocal, Resources } from './fixtures/helpers.js';

const resources = new Resources();

afterEach(async () => {
  await resources.closeAll();
});

describe('@proto/framing/internal helpers', () => {
  it('toError keeps errors and wraps anything else', () => {
    const error = new TypeError('x');
    expect(toError(error)).toBe(error);
    expect(toError('boom')).toBeInstanceOf(Error);
    expect(toError('boom').message).toBe('boom');
    expect(toError(undefined).message).toBe('undefined');
  });

  it('integerOption falls back on undefined and names the option and the range it wants', () => {
    expect(integerOption('retries', undefined, 3)).toBe(3);
    expect(integerOption('retries', 0, 3)).toBe(0);
    expect(integerOption('port', 65535, 0, 1, 65535)).toBe(65535);
    expect(() => integerOption('retries', -1, 0)).toThrow(new InvalidArgError('retries must be an integer >= 0, got -1'));
    expect(() => integerOption('port', 0, 0, 1, 65535)).toThrow('port must be an integer in 1..65535, got 0');
    expect(() => integerOption('n', '5', 0)).toThrow('n must be an integer >= 0, got "5"');
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, null, true]) {
      expect(() => integerOption('n', bad, 0)).toThrow(InvalidArgError);
    }
  });

  it('deferred settles its promise from outside, once', async () => {
    const done = deferred<number>();
    done.resolve(1);
    done.resolve(2);
    done.reject(new Error('late'));
    expect(await done.promise).toBe(1);
    const failed = deferred();
    failed.reject(new Error('no'));
    await expect(failed.promise).rejects.toThrow('no');
  });

  it('partBytes and payloadBytes count UTF-8 bytes; payloadBytes refuses what is not a payload', () => {
    expect(partBytes('é')).toBe(2);
    expect(partBytes(new Uint8Array(7))).toBe(7);
    expect(payloadBytes(['ab', Buffer.alloc(3), 'é'])).toBe(7);
    expect(payloadBytes([])).toBe(0);
    for (const bad of [42, null, undefined, {}, [1], ['a', {}]]) {
      expect(() => payloadBytes(bad)).toThrow(InvalidArgError);
    }
  });

  it('emitErrorIfListened emits only with a listener, and says whether it did', () => {
    const emitter = new EventEmitter<{ error: [Error, string] }>();
    expect(emitErrorIfListened(emitter, new Error('unheard'), 'ctx')).toBe(false);
    const seen: string[] = [];
    emitter.on('error', (error, context) => seen.push(`${error.message}/${context}`));
    expect(emitErrorIfListened(emitter, new Error('heard'), 'ctx')).toBe(true);
    expect(seen).toEqual(['heard/ctx']);
  });

  it('BoundedCache evicts the oldest entry when full, never growing past its bound', () => {
    const cache = new BoundedCache<string, number>(2);
    expect(cache.set('a', 1)).toBe(1);
    cache.set('b', 2);
    cache.set('a', 10); // an update evicts nothing
    expect([cache.size, cache.get('a'), cache.get('b')]).toEqual([2, 10, 2]);
    cache.set('c', 3);
    expect([cache.size, cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([2, undefined, 2, 3]);
    expect(cache.delete('b')).toBe(true);
    expect(cache.delete('b')).toBe(false);
    cache.clear();
    expect(cache.size).toBe(0);
    for (let i = 0; i < 1000; i++) cache.set(String(i), i);
    expect(cache.size).toBe(2);
  });
});

describe('FramedSocket hooks for the layers above', () => {
  it('setFrameHandler delivers frames to one handler with its thisArg instead of the frame event', () => {
    const stream = new PassThrough();
    const socket = new FramedSocket(stream);
    const evented: string[] = [];
    socket.on('frame', (frame) => evented.push(frame.toString()));
    const owner = { got: [] as string[] };
    setFrameHandler(
      socket,
      function (this: typeof owner, frame) {
        this.got.push(frame.toString());
      },
      owner,
    );
    stream.emit('data', Buffer.concat([encodeFrame(Buffer.from('a')), encodeFrame(Buffer.from('b'))]));
    expect(owner.got).toEqual(['a', 'b']);
    expect(evented).toEqual([]);
    expect(socket.stats.framesIn).toBe(2);
    setFrameHandler(socket, undefined, undefined);
    stream.emit('data', encodeFrame(Buffer.from('c')));
    expect(evented).toEqual(['c']);
    socket.destroy();
  });

  it('a throwing frame handler destroys the socket with its error, and later frames of the chunk are dropped', async () => {
    const stream = new PassThrough();
    const socket = new FramedSocket(stream);
    const got: string[] = [];
    setFrameHandler(
      socket,
      (frame) => {
        got.push(frame.toString());
        throw new Error('handler failed');
      },
      undefined,
    );
    const error = once(socket, 'error');
    stream.emit('data', Buffer.concat([encodeFrame(Buffer.from('a')), encodeFrame(Buffer.from('b'))]));
    expect(((await error)[0] as Error).message).toBe('handler failed');
    expect(got).toEqual(['a']);
  });

  it('writable is true until end(), the peer’s end, or destroy()', async () => {
    const { port, accepted } = await listenLocal(resources);
    const client = resources.socket(await connect({ host: '127.0.0.1', port }));
    const peer = await accepted;
    expect([client.writable, peer.writable]).toEqual([true, true]);
    client.pause(); // a socket that stopped reading is still writable
    expect(client.writable).toBe(true);
    client.resume();
    const ended = client.end();
    expect(client.writable).toBe(false);
    await once(peer.stream, 'end');
    expect(peer.writable).toBe(false);
    await ended;
    const other = new FramedSocket(new PassThrough());
    other.destroy();
    expect(other.writable).toBe(false);
  });
});
