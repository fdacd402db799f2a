import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type NsServer, type NsServerOptions, type NsSocket, ProtoError } from '@proto/ns';
import { Cleanup } from '../../../testing/cleanup.js';
import { eventPayload, NS_EVENT_BINARY, NS_EVENT_JSON, openingBytes } from '../../../testing/ns-wire.js';
import { frame32, rawConnect } from '../../../testing/raw-socket.js';
import { deepCode, selfSignedTls, UNVERIFIED_CERT_CODES } from '../../../testing/tls-fixtures.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const cleanup = new Cleanup();
failOnUncaught(cleanup, () => expect(Object.prototype).not.toHaveProperty('polluted'));

interface Rig {
  server: NsServer;
  port: number;
  /** Server-side sockets, in accept order. */
  sockets: NsSocket[];
  clientErrors: Error[];
}

async function rig(options: NsServerOptions = {}, onConnection?: (socket: NsSocket) => void): Promise<Rig> {
  const sockets: NsSocket[] = [];
  const clientErrors: Error[] = [];
  const server = createServer(options, (socket) => {
    sockets.push(socket);
    onConnection?.(socket);
  });
  server.on('clientError', (error) => clientErrors.push(error));
  cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port, sockets, clientErrors };
}

/** A raw client whose link to `server` is open; resolves with it and the server's socket. */
async function openRaw(r: Rig): Promise<{ raw: Awaited<ReturnType<typeof rawConnect>>; socket: NsSocket; closed: Promise<Error | undefined> }> {
  const accepted = once(r.server, 'connection');
  const raw = await rawConnect(r.port);
  cleanup.add(raw.socket, (s) => s.destroy());
  // The server's socket opens (and `connection` fires) at the client's hello.
  raw.socket.write(openingBytes());
  const [socket] = (await accepted) as [NsSocket];
  const closed = new Promise<Error | undefined>((resolve) => socket.once('close', resolve));
  return { raw, socket, closed };
}

function nextData(socket: NsSocket, pattern: string | string[]): Promise<[unknown, string[]]> {
  return new Promise((resolve) => socket.dataOnce(pattern, (data: unknown, segments: string[]) => resolve([data, segments])));
}

describe('security: JSON cannot pollute prototypes', () => {
  const payloads = [
    '{"__proto__":{"polluted":true},"a":1}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '[{"__proto__":{"polluted":true}}]',
    '{"nested":{"__proto__":{"polluted":true}}}',
  ];

  it.each(payloads)('%s arrives as plain own properties; Object.prototype is untouched', async (json) => {
    const r = await rig();
    const { raw, socket } = await openRaw(r);
    const received = nextData(socket, 'evil');
    raw.socket.write(frame32(eventPayload(NS_EVENT_JSON, 'evil', json)));
    const [data] = await received;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // What arrived is what JSON.parse makes of it: own keys named __proto__/constructor, normal prototypes.
    expect(data).toEqual(JSON.parse(json));
    const objects: unknown[] = [data];
    while (objects.length > 0) {
      const value = objects.pop();
      if (typeof value !== 'object' || value === null) continue;
      expect([Object.prototype, Array.prototype]).toContain(Object.getPrototypeOf(value));
      objects.push(...Object.values(value));
    }
    if (json.startsWith('{"__proto__"')) expect(Object.hasOwn(data as object, '__proto__')).toBe(true);
    if (json.startsWith('{"constructor"')) expect(Object.hasOwn(data as object, 'constructor')).toBe(true);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', '_listeners', 'chat::__proto__', 'constructor::prototype'])(
    'an event a peer names %s is refused with ERR_PROTOCOL before any listener runs',
    async (name) => {
      const r = await rig();
      const { raw, socket, closed } = await openRaw(r);
      const fired: string[] = [];
      socket.data('chat', () => fired.push('chat'));
      socket.data(['chat', '*'], () => fired.push('chat::*'));
      socket.data('**', (_data: unknown, segments: string[]) => fired.push(segments.join('::')));
      raw.socket.write(frame32(eventPayload(NS_EVENT_JSON, name, '{"polluted":true}')));
      expect(((await closed) as ProtoError).code).toBe('ERR_PROTOCOL');
      expect(fired).toEqual([]);
      expect(Object.hasOwn(Object.prototype, '_listeners')).toBe(false);
    },
  );

  it('names that merely contain those words (proto, my-constructor, toStrings) are ordinary events', async () => {
    const r = await rig();
    const { raw, socket } = await openRaw(r);
    const names = ['proto', 'my-constructor', 'toStrings', '__proto', 'prototype', 'listeners'];
    const all: string[] = [];
    socket.data('**', (_data: unknown, segments: string[]) => all.push(segments.join('::')));
    const done = nextData(socket, 'done');
    raw.socket.write(Buffer.concat([...names.map((name) => frame32(eventPayload(NS_EVENT_JSON, name, '1'))), frame32(eventPayload(NS_EVENT_JSON, 'done', ''))]));
    await done;
    expect(all).toEqual([...names, 'done']);
    expect(socket.connected).toBe(true);
  });
});

describe('security: size limits on what a peer can send', () => {
  it('a frame header over maxFrameBytes closes the connection with ERR_FRAME_TOO_LARGE before any payload is sent', async () => {
    const r = await rig({ maxFrameBytes: 64 * 1024 });
    const { raw, closed } = await openRaw(r);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 * 1024 + 1);
    raw.socket.write(header); // the payload is never sent: the server must not wait for it
    const error = await closed;
    expect((error as ProtoError).code).toBe('ERR_FRAME_TOO_LARGE');
    await raw.outcome;
  });

  it('a 1 GiB announced frame is refused at its header (nothing allocated from the announcement)', async () => {
    const r = await rig();
    const { raw, closed } = await openRaw(r);
    const before = process.memoryUsage().arrayBuffers;
    raw.socket.write(Buffer.from([0x40, 0x00, 0x00, 0x00]));
    expect(((await closed) as ProtoError).code).toBe('ERR_FRAME_TOO_LARGE');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it.each([
    ['a name over 1024 bytes', [Array.from({ length: 5 }, () => 'n'.repeat(250)).join('::')]],
    ['a segment over 256 bytes', ['s'.repeat(257)]],
    ['a wildcard segment', ['chat::*']],
    ['an empty segment', ['a::::b']],
  ])('an event with %s from a peer is ERR_PROTOCOL and fires no listener', async (_label, [name]) => {
    const r = await rig();
    const { raw, socket, closed } = await openRaw(r);
    let fired = 0;
    socket.data('**', () => fired++);
    raw.socket.write(frame32(eventPayload(NS_EVENT_BINARY, name!, Buffer.from([1]))));
    expect(((await closed) as ProtoError).code).toBe('ERR_PROTOCOL');
    expect(fired).toBe(0);
  });

  it('sending an oversize name or frame fails locally (ERR_INVALID_ARG, ERR_FRAME_TOO_LARGE), writes nothing, and the link stays usable', async () => {
    const r = await rig({ maxFrameBytes: 1024 });
    const accepted = once(r.server, 'connection');
    const client = await connect({ host: '127.0.0.1', port: r.port, maxFrameBytes: 1024 });
    cleanup.add(client, (c) => c.destroy());
    const [peer] = (await accepted) as [NsSocket];
    const bytesBefore = client.stats.bytesOut;
    expect(() => client.send('x'.repeat(257), 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => client.send('big', Buffer.alloc(2048))).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }));
    expect(client.stats.bytesOut).toBe(bytesBefore);
    const arrived = nextData(peer!, 'small');
    client.send('small', { ok: true });
    expect((await arrived)[0]).toEqual({ ok: true });
  });

  it('a peer cycling through 20,000 distinct event names costs bounded memory (name caches do not grow)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const r = await rig();
    const { raw, socket } = await openRaw(r);
    let count = 0;
    socket.data('**', () => count++);
    const send = async (from: number, to: number): Promise<void> => {
      const frames: Buffer[] = [];
      for (let i = from; i < to; i++) frames.push(frame32(eventPayload(NS_EVENT_JSON, `name-${String(i)}::x`, '1')));
      const done = nextData(socket, `end-${String(to)}`);
      raw.socket.write(Buffer.concat([...frames, frame32(eventPayload(NS_EVENT_JSON, `end-${String(to)}`, '1'))]));
      await done;
    };
    await send(0, 2000); // warm up
    gc();
    const before = process.memoryUsage().heapUsed;
    await send(2000, 22_000);
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    expect(count).toBe(22_000 + 2); // and the two end markers
    // 20,000 names of ~15 bytes each kept forever would be several MiB with their arrays and entries.
    expect(growth).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('security: TLS defaults of ns clients', () => {
  it('connect({ tls: true }) refuses a self-signed server', async () => {
    const r = await rig({ tls: selfSignedTls() });
    const error = await connect({ host: '127.0.0.1', port: r.port, tls: true }).then(
      (socket) => {
        socket.destroy();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(UNVERIFIED_CERT_CODES).toContain(deepCode(error));
    expect(r.sockets).toHaveLength(0);
  });
});
