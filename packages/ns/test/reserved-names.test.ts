import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NsSocket, RESERVED_EVENT_SEGMENTS } from '@proto/ns';
import { eventNameOf, patternSegments } from '../src/event-name.js';
import { hello, jsonEvent, next, rawClosed, rawConnect, ready, Resources } from './helpers.js';

const resources = new Resources();
const rawServers: net.Server[] = [];
const rawServerSockets: net.Socket[] = [];

afterEach(async () => {
  await resources.closeAll();
  for (const socket of rawServerSockets.splice(0)) socket.destroy();
  for (const server of rawServers.splice(0)) await new Promise((resolve) => server.close(resolve));
  // Nothing planted on built-ins (a failing test must not leak into the next one).
  for (const target of [Object.prototype, Object, Object.prototype.toString]) {
    expect(Object.hasOwn(target, '_listeners')).toBe(false);
  }
});

const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARG' });
const BUILT_INS = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'];
const RESERVED = [...BUILT_INS, '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', '_listeners'];

describe('reserved segments (EventEmitter2 keeps listeners in plain objects)', () => {
  it('are exactly the property names of Object.prototype plus "_listeners"', () => {
    expect([...RESERVED_EVENT_SEGMENTS].sort()).toEqual([...new Set([...Object.getOwnPropertyNames(Object.prototype), '_listeners'])].sort());
    expect([...RESERVED_EVENT_SEGMENTS].sort()).toEqual([...RESERVED].sort());
  });

  it.each(RESERVED)('%s is refused in sent names and in patterns, at any position', (segment) => {
    expect(() => eventNameOf(segment)).toThrow(invalid);
    expect(() => eventNameOf(`chat::${segment}`)).toThrow(invalid);
    expect(() => eventNameOf([segment, 'x'])).toThrow(invalid);
    expect(() => patternSegments(`**::${segment}`)).toThrow(invalid);
    expect(() => patternSegments(['*', segment])).toThrow(invalid);
  });

  it('names that merely look alike stay valid', () => {
    for (const name of ['prototype', 'proto', '__proto', 'Constructor', 'constructors', 'toString2', 'listeners', '__listeners', 'data::prototype']) {
      expect(eventNameOf(name)).toBe(name);
      expect(patternSegments(name)).toEqual(name.split('::'));
    }
  });
});

describe('sending a reserved name', () => {
  it('throws ERR_INVALID_ARG on an open link and writes nothing', async () => {
    const { client, peer } = await resources.pair();
    const seen: string[][] = [];
    peer.data('**', (_data, segments) => seen.push(segments));
    for (const event of ['constructor', 'chat::__proto__', ['a', 'toString'], ['_listeners']] as const) {
      expect(() => client.send(event as string | readonly string[], { x: 1 })).toThrow(invalid);
    }
    expect(client.stats.messagesOut).toBe(0);
    const done = next(peer, 'data::done');
    client.send('done', 1);
    await done;
    expect(seen).toEqual([['done']]);
  });

  it('throws ERR_INVALID_ARG while offline too, and queues nothing', async () => {
    const socket = resources.track(new NsSocket({ host: '127.0.0.1', port: 1, offlineQueue: true }));
    expect(() => socket.send('constructor', 1)).toThrow(invalid);
    expect(() => socket.send(['valueOf'], Buffer.from([1]))).toThrow(invalid);
    const { server, port } = await resources.server();
    const seen: string[][] = [];
    server.on('connection', (peer) => peer.data('**', (_data, segments) => seen.push(segments)));
    socket.send('first', 1);
    const accepted = next<[NsSocket]>(server, 'connection');
    await socket.connect({ port });
    const [peer] = await accepted;
    const done = next(peer, 'data::done');
    socket.send('done', 2);
    await done;
    expect(seen).toEqual([['first'], ['done']]);
  });
});

describe('listening on a reserved name', () => {
  it('data/dataOnce/offData and every EventEmitter2 way to add a listener throw ERR_INVALID_ARG; built-ins untouched', async () => {
    const socket = resources.track(new NsSocket());
    const fn = (): void => {};
    expect(() => socket.data('__proto__', fn)).toThrow(invalid);
    expect(() => socket.data(['chat', 'constructor'], fn)).toThrow(invalid);
    expect(() => socket.dataOnce('toString', fn)).toThrow(invalid);
    expect(() => socket.offData('hasOwnProperty', fn)).toThrow(invalid);
    expect(() => socket.on('data::__proto__', fn)).toThrow(invalid);
    expect(() => socket.on(['data', 'constructor'], fn)).toThrow(invalid);
    expect(() => socket.on('data::a::_listeners', fn)).toThrow(invalid);
    expect(() => socket.once('data::valueOf', fn)).toThrow(invalid);
    expect(() => socket.many('data::toString', 2, fn)).toThrow(invalid);
    expect(() => socket.prependListener(['data', '__proto__'], fn)).toThrow(invalid);
    expect(() => socket.addListener('constructor', fn)).toThrow(invalid); // not only user events: the tree is the same
    await expect(socket.waitFor('data::constructor')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(socket.listeners('data::**')).toEqual([]);
    expect(Object.hasOwn(Object.prototype, '_listeners')).toBe(false);
    expect(Object.hasOwn(Object, '_listeners')).toBe(false);
    // onAny has no name to abuse, and ordinary listeners still work.
    socket.onAny(fn);
    socket.data('prototype', fn);
    socket.on('close', fn);
    expect(socket.listeners('data::prototype')).toEqual([fn]);
  });
});

describe('a peer sending a reserved name', () => {
  interface Setup {
    port: number;
    /** Resolves with the `close` argument of each accepted socket, in accept order. */
    closes: Promise<Error | undefined>[];
    heard: string[];
    errors: Error[];
  }

  async function setup(): Promise<Setup> {
    const closes: Promise<Error | undefined>[] = [];
    const heard: string[] = [];
    const errors: Error[] = [];
    const { server, port } = await resources.server({}, (socket) => {
      closes.push(next<[Error | undefined]>(socket, 'close').then(([error]) => error));
      socket.onAny((event) => {
        if (String(event).startsWith('data')) heard.push(`any ${String(event)}`);
      });
      socket.data('**', (_data, segments) => heard.push(`** ${segments.join('::')}`));
      socket.data('*', (_data, segments) => heard.push(`* ${segments.join('::')}`));
      socket.data('prototype', () => heard.push('prototype'));
    });
    server.on('clientError', (error) => errors.push(error));
    return { port, closes, heard, errors };
  }

  it.each(['constructor', '__proto__', 'a::toString', '_listeners', 'x::_listeners::y', '__defineGetter__'])(
    '%s: ERR_PROTOCOL, the connection is closed, no listener runs (onAny, wildcards), events before it stay delivered',
    async (name) => {
      const s = await setup();
      const raw = await rawConnect(resources, s.port);
      const closed = rawClosed(raw);
      raw.write(Buffer.concat([hello(), ready(), jsonEvent('prototype', '1'), jsonEvent(name, '{"from":"attacker"}'), jsonEvent('after', '2')]));
      await closed;
      expect(await s.closes[0]).toMatchObject({ code: 'ERR_PROTOCOL' });
      expect(s.errors).toHaveLength(1);
      expect(s.errors[0]).toMatchObject({ code: 'ERR_PROTOCOL' });
      expect(s.errors[0]!.message).toMatch(/reserved/);
      expect(s.heard).toEqual(['any data::prototype', 'prototype', '* prototype', '** prototype']);
    },
  );

  it('never reaches a listener another EventEmitter2 planted on a built-in', async () => {
    const s = await setup();
    const planted: unknown[] = [];
    // What `new EventEmitter2({ wildcard: true }).on('constructor', fn)` does to the global Object.
    (Object as unknown as { _listeners?: unknown })._listeners = (data: unknown) => planted.push(data);
    try {
      const raw = await rawConnect(resources, s.port);
      const closed = rawClosed(raw);
      raw.write(Buffer.concat([hello(), ready(), jsonEvent('constructor', '{"from":"attacker"}')]));
      await closed;
    } finally {
      delete (Object as unknown as { _listeners?: unknown })._listeners;
    }
    expect(planted).toEqual([]);
    expect(s.errors[0]).toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('a wildcard name from a peer is refused before any onAny listener sees it', async () => {
    const s = await setup();
    const raw = await rawConnect(resources, s.port);
    const closed = rawClosed(raw);
    raw.write(Buffer.concat([hello(), ready(), jsonEvent('**', '1'), jsonEvent('*', '2')]));
    await closed;
    expect(s.heard).toEqual([]);
    expect(s.errors[0]).toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('a server sending a reserved name closes the client with ERR_PROTOCOL', async () => {
    const rawServer = net.createServer((socket) => {
      rawServerSockets.push(socket);
      socket.on('error', () => {});
      socket.write(Buffer.concat([hello(), ready(), jsonEvent('valueOf', '1')]));
    });
    rawServers.push(rawServer);
    await new Promise<void>((resolve) => rawServer.listen(0, '127.0.0.1', resolve));
    const { port } = rawServer.address() as net.AddressInfo;
    const heard: unknown[] = [];
    const client = resources.track(new NsSocket({ host: '127.0.0.1', port }));
    client.onAny((event) => heard.push(event));
    const closed = next<[Error | undefined]>(client, 'close');
    await client.connect().catch(() => {});
    const [error] = await closed;
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(heard.filter((event) => String(event).startsWith('data'))).toEqual([]);
  });
});
