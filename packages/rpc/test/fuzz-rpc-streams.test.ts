import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient, type RpcPeer, RpcServer } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { FuzzCounter, fuzzParams } from '../../../testing/fuzz.js';
import {
  ENCODING,
  RawRpcLink,
  RPC,
  STREAM,
  streamCreditPayload,
  streamFrameItems,
  streamItemPayload,
  streamItemsPayload,
  streamOpenPayload,
  u32Payload,
} from '../../../testing/rpc-wire.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const PASSWORD = 'fuzz-secret';
const cleanup = new Cleanup();
const suite = new Cleanup();
const counters: FuzzCounter[] = [];
const serverErrors: Error[] = [];

let server: RpcServer;
let port: number;
let healthy: RpcClient;

beforeAll(async () => {
  server = new RpcServer({ password: PASSWORD, authThrottle: false, keepAlive: false });
  server.handle('echo', (params) => params);
  // Holds its credit: never yields until cancelled.
  server.handleStream('hold', async function* (_params, ctx) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    yield 'never';
  });
  // Never reads its input.
  server.handleStream('deaf', async function* (_params, ctx) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  });
  server.handleStream('count', async function* (n: number) {
    for (let i = 0; i < n; i++) yield i;
  });
  server.handleStream('sink', async function* (_params, ctx) {
    let count = 0;
    for await (const _item of ctx.input) count++;
    yield count;
  });
  server.on('error', (error) => serverErrors.push(error));
  suite.add(server, (s) => s.close({ timeoutMs: 200 }));
  port = (await server.listen({ host: '127.0.0.1', port: 0 })).port;
  healthy = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, keepAlive: false });
  suite.add(healthy, (c) => c.destroy());
  await healthy.connect();
});

afterAll(async () => {
  for (const c of counters) c.report();
  await suite.run();
});

failOnUncaught(cleanup);

async function open(): Promise<{ link: RawRpcLink; peer: RpcPeer }> {
  const authenticated = new Promise<RpcPeer>((resolve) => server.once('authenticated', resolve));
  const link = await RawRpcLink.open(port);
  cleanup.add(link, (l) => l.destroy());
  expect(await link.authenticate(PASSWORD)).toBe(true);
  return { link, peer: await authenticated };
}

let sentinel = 0x6000_0000;

/** Whether the link still answers a PING sent behind `messages` (false: the server closed it). */
async function stillOpen(link: RawRpcLink, messages: Buffer[]): Promise<boolean> {
  const seq = sentinel++;
  link.sendAll([...messages, u32Payload(RPC.PING, seq)]);
  const pong = await link.next((f) => f[0] === RPC.PONG && f.readUInt32BE(1) === seq);
  if (pong === undefined) await link.outcome;
  return pong !== undefined;
}

async function healthyStillWorks(): Promise<void> {
  expect(await healthy.request('echo', 7)).toBe(7);
  const items: unknown[] = [];
  for await (const item of healthy.stream('count', 3)) items.push(item);
  expect(items).toEqual([0, 1, 2]);
}

const open1 = (id: number, method: string, options: Parameters<typeof streamOpenPayload>[3] = {}, params = ''): Buffer =>
  streamOpenPayload(id, method, params, options);

describe('fuzz: stream messages from a raw client (the server serves)', () => {
  const cases: { name: string; messages: Buffer[]; stays: boolean }[] = [
    { name: 'credit grant 0', messages: [open1(1, 'hold'), streamCreditPayload(STREAM.CREDIT, 1, 0)], stays: false },
    { name: 'negative credit (0x80000000)', messages: [open1(1, 'hold'), streamCreditPayload(STREAM.CREDIT, 1, 0x8000_0000)], stays: false },
    { name: 'huge credit (0xffffffff)', messages: [open1(1, 'hold'), streamCreditPayload(STREAM.CREDIT, 1, 0xffff_ffff)], stays: false },
    { name: 'credit overflow', messages: [open1(1, 'hold', { credit: 0x7fff_ffff }), streamCreditPayload(STREAM.CREDIT, 1, 1)], stays: false },
    { name: 'credit of 7 bytes', messages: [open1(1, 'hold'), streamCreditPayload(STREAM.CREDIT, 1, 1).subarray(0, 8)], stays: false },
    { name: 'credit for an unknown id (may cross an END)', messages: [streamCreditPayload(STREAM.CREDIT, 99, 5)], stays: true },
    { name: 'input item on a stream without input', messages: [open1(1, 'hold'), streamItemPayload(STREAM.INPUT_ITEM, 1, ENCODING.JSON, '1')], stays: false },
    {
      name: 'input item after input end',
      messages: [open1(1, 'deaf', { flags: 1 }), u32Payload(STREAM.INPUT_END, 1), streamItemPayload(STREAM.INPUT_ITEM, 1, ENCODING.JSON, '1')],
      stays: false,
    },
    {
      name: 'input items beyond the 16 credited',
      messages: [open1(1, 'deaf', { flags: 1 }), ...Array.from({ length: 17 }, () => streamItemPayload(STREAM.INPUT_ITEM, 1, ENCODING.JSON, '1'))],
      stays: false,
    },
    {
      name: 'input items within the credit',
      messages: [open1(1, 'deaf', { flags: 1 }), ...Array.from({ length: 16 }, () => streamItemPayload(STREAM.INPUT_ITEM, 1, ENCODING.JSON, '1'))],
      stays: true,
    },
    { name: 'a second input end', messages: [open1(1, 'deaf', { flags: 1 }), u32Payload(STREAM.INPUT_END, 1), u32Payload(STREAM.INPUT_END, 1)], stays: false },
    { name: 'input item with bad JSON', messages: [open1(1, 'deaf', { flags: 1 }), streamItemPayload(STREAM.INPUT_ITEM, 1, ENCODING.JSON, '{')], stays: false },
    { name: 'input item for an unknown id (may cross an END)', messages: [streamItemPayload(STREAM.INPUT_ITEM, 5, ENCODING.JSON, '1')], stays: true },
    { name: 'an open reusing a live id', messages: [open1(1, 'hold'), open1(1, 'hold')], stays: false },
    { name: 'a request reusing a live stream id', messages: [open1(1, 'hold'), Buffer.concat([Buffer.from([RPC.REQUEST, 0, 0, 0, 1, ENCODING.NONE, 4]), Buffer.from('echo')])], stays: false },
    { name: 'unknown open flags', messages: [open1(1, 'hold', { flags: 2 })], stays: false },
    { name: 'open with credit 0', messages: [open1(1, 'hold', { credit: 0 })], stays: false },
    { name: 'open with an empty method', messages: [open1(1, '')], stays: false },
    { name: 'open of another version (refused as an unknown method)', messages: [open1(1, 'hold', { version: 3 })], stays: true },
    { name: 'a version-2 open with unknown flags', messages: [open1(1, 'hold', { version: 2, flags: 4 })], stays: false },
    {
      name: 'input items (batch) within the credit',
      messages: [open1(1, 'deaf', { flags: 1, version: 2 }), streamItemsPayload(STREAM.INPUT_ITEMS, 1, JSON.stringify(Array.from({ length: 16 }, (_, i) => i)))],
      stays: true,
    },
    {
      name: 'input items (batch) beyond the 16 credited',
      messages: [open1(1, 'deaf', { flags: 1, version: 2 }), streamItemsPayload(STREAM.INPUT_ITEMS, 1, JSON.stringify(Array.from({ length: 17 }, (_, i) => i)))],
      stays: false,
    },
    { name: 'an empty input batch', messages: [open1(1, 'deaf', { flags: 1, version: 2 }), streamItemsPayload(STREAM.INPUT_ITEMS, 1, '[]')], stays: false },
    { name: 'an input batch that is not an array', messages: [open1(1, 'deaf', { flags: 1, version: 2 }), streamItemsPayload(STREAM.INPUT_ITEMS, 1, '{"a":1}')], stays: false },
    { name: 'an input batch with bad JSON', messages: [open1(1, 'deaf', { flags: 1, version: 2 }), streamItemsPayload(STREAM.INPUT_ITEMS, 1, '[1,')], stays: false },
    { name: 'an input batch that is not UTF-8', messages: [open1(1, 'deaf', { flags: 1, version: 2 }), streamItemsPayload(STREAM.INPUT_ITEMS, 1, Buffer.from([0x5b, 0xff, 0x5d]))], stays: false },
    { name: 'an input batch on a version-1 stream', messages: [open1(1, 'deaf', { flags: 1 }), streamItemsPayload(STREAM.INPUT_ITEMS, 1, '[1]')], stays: false },
    { name: 'an input batch on a stream without input', messages: [open1(1, 'hold', { version: 2 }), streamItemsPayload(STREAM.INPUT_ITEMS, 1, '[1]')], stays: false },
    {
      name: 'an input batch after input end',
      messages: [open1(1, 'deaf', { flags: 1, version: 2 }), u32Payload(STREAM.INPUT_END, 1), streamItemsPayload(STREAM.INPUT_ITEMS, 1, '[1]')],
      stays: false,
    },
    { name: 'a well-formed input batch for an unknown id (may cross an END)', messages: [streamItemsPayload(STREAM.INPUT_ITEMS, 5, '[1]')], stays: true },
    { name: 'a malformed input batch for an unknown id', messages: [streamItemsPayload(STREAM.INPUT_ITEMS, 5, '[]')], stays: false },
    { name: 'ITEMS (a responder message) for a stream this side never opened', messages: [streamItemsPayload(STREAM.ITEMS, 1, '[1]')], stays: false },
    { name: 'INPUT_STOP (a responder message) for a stream this side never opened', messages: [u32Payload(STREAM.INPUT_STOP, 1)], stays: false },
    { name: 'ITEM (a responder message) for a stream this side never opened', messages: [streamItemPayload(STREAM.ITEM, 1, ENCODING.JSON, '1')], stays: false },
    { name: 'END for a stream this side never opened', messages: [u32Payload(STREAM.END, 3)], stays: false },
    { name: 'input credit for a stream this side never opened', messages: [streamCreditPayload(STREAM.INPUT_CREDIT, 3, 1)], stays: false },
  ];

  for (const { name, messages, stays } of cases) {
    it(`${name}: ${stays ? 'the link stays open' : 'ERR_PROTOCOL closes the link'}`, async () => {
      const errorsBefore = serverErrors.length;
      const { link } = await open();
      expect(await stillOpen(link, messages)).toBe(stays);
      if (!stays) {
        await expect.poll(() => serverErrors.length).toBeGreaterThan(errorsBefore);
        expect(serverErrors.at(-1)).toMatchObject({ code: 'ERR_PROTOCOL' });
      }
      await healthyStillWorks();
    });
  }

  it('a version-3 open is answered ERROR kind 1 (version negotiation), and a known stream still works after it', async () => {
    const { link } = await open();
    link.sendAll([open1(1, 'count', { version: 3 }, '2'), open1(2, 'count', {}, '2')]);
    const refusal = await link.next((f) => f[0] === RPC.ERROR && f.readUInt32BE(1) === 1);
    expect(refusal![5]).toBe(1);
    expect(JSON.parse(refusal!.subarray(6).toString())).toMatchObject({ message: expect.stringMatching(/^stream protocol version 3 is not supported/) });
    const end = await link.next((f) => f[0] === STREAM.END && f.readUInt32BE(1) === 2);
    expect(end).toBeDefined();
    const items = link.frames.filter((f) => f[0] === STREAM.ITEM && f.readUInt32BE(1) === 2).map((f) => JSON.parse(f.subarray(6).toString()));
    expect(items).toEqual([0, 1]);
  });

  it('a version-1 open is answered one ITEM per item; a version-2 open gets its JSON items batched in ITEMS', async () => {
    const { link } = await open();
    link.sendAll([open1(1, 'count', {}, '5'), open1(2, 'count', { version: 2 }, '5')]);
    await link.next((f) => f[0] === STREAM.END && f.readUInt32BE(1) === 1);
    await link.next((f) => f[0] === STREAM.END && f.readUInt32BE(1) === 2);
    const of = (id: number) => link.frames.filter((f) => (f[0] === STREAM.ITEM || f[0] === STREAM.ITEMS) && f.readUInt32BE(1) === id);
    expect(of(1).map((f) => f[0])).toEqual(Array.from({ length: 5 }, () => STREAM.ITEM));
    expect(of(1).flatMap(streamFrameItems)).toEqual([0, 1, 2, 3, 4]);
    expect(of(2).every((f) => f[0] === STREAM.ITEMS)).toBe(true);
    expect(of(2).length).toBeLessThan(5);
    expect(of(2).flatMap(streamFrameItems)).toEqual([0, 1, 2, 3, 4]);
  });

  it('a handler that stops reading its input sends INPUT_STOP on a version-2 stream (not on version 1), then drops input and takes INPUT_END', async () => {
    server.handleStream('first', async function* (_params, ctx) {
      for await (const item of ctx.input) {
        yield item;
        break;
      }
      yield 'after';
    });
    const { link } = await open();
    link.sendAll([open1(1, 'first', { flags: 1, version: 2 }), open1(2, 'first', { flags: 1 })]);
    await link.next((f) => f[0] === STREAM.INPUT_CREDIT && f.readUInt32BE(1) === 2);
    link.sendAll([streamItemsPayload(STREAM.INPUT_ITEMS, 1, '["a","b"]'), streamItemPayload(STREAM.INPUT_ITEM, 2, ENCODING.JSON, '"a"'), streamItemPayload(STREAM.INPUT_ITEM, 2, ENCODING.JSON, '"b"')]);
    expect(await link.next((f) => f[0] === STREAM.INPUT_STOP && f.readUInt32BE(1) === 1)).toBeDefined();
    await link.next((f) => f[0] === STREAM.END && f.readUInt32BE(1) === 1);
    await link.next((f) => f[0] === STREAM.END && f.readUInt32BE(1) === 2);
    expect(link.frames.filter((f) => f[0] === STREAM.INPUT_STOP).map((f) => f.readUInt32BE(1))).toEqual([1]);
    const of = (id: number) => link.frames.filter((f) => (f[0] === STREAM.ITEM || f[0] === STREAM.ITEMS) && f.readUInt32BE(1) === id).flatMap(streamFrameItems);
    expect(of(1)).toEqual(['a', 'after']);
    expect(of(2)).toEqual(['a', 'after']);
    // Input still in flight after the stop is within the credit and dropped; an INPUT_END is taken.
    expect(await stillOpen(link, [])).toBe(true);
  });
});

describe('fuzz: stream messages from a raw client (the server opened the stream)', () => {
  /** The server opens `method` on the raw client; resolves with the open frame and the iterator. */
  async function serverOpens(highWaterMark = 4, input?: AsyncIterable<unknown> | Iterable<unknown>) {
    const { link, peer } = await open();
    const iterator = server.stream(peer.id, 'client::thing', { x: 1 }, { highWaterMark, input });
    const frame = await link.next((f) => f[0] === RPC.REQUEST);
    const id = frame!.readUInt32BE(1);
    const results: Promise<{ items: unknown[]; error: unknown }> = (async () => {
      const items: unknown[] = [];
      try {
        for await (const item of iterator) items.push(item);
      } catch (error) {
        return { items, error };
      }
      return { items, error: undefined };
    })();
    return { link, id, frame: frame!, results };
  }

  it('the open is a REQUEST with an empty method and raw payload, so a peer without streams answers it as an unknown method', async () => {
    const { link, id, frame, results } = await serverOpens();
    expect(frame[5]).toBe(ENCODING.RAW);
    expect(frame[6]).toBe(0); // methodLen 0
    expect(frame[7]).toBe(0x53); // 'S'
    // What a round-1 peer sends back: ERROR kind 1, "no handler for method ".
    const head = Buffer.from([RPC.ERROR, 0, 0, 0, 0, 1]);
    head.writeUInt32BE(id, 1);
    link.send(Buffer.concat([head, Buffer.from('{"message":"no handler for method "}')]));
    const { items, error } = await results;
    expect(items).toEqual([]);
    expect(error).toMatchObject({ code: 'ERR_METHOD_NOT_FOUND', method: 'client::thing' });
    expect((error as Error).message).toMatch(/does not serve stream client::thing/);
    expect(await stillOpen(link, [])).toBe(true);
  });

  // `ended`: the stream had ended normally (END) before the bad message closed the link.
  const cases: { name: string; messages: (id: number) => Buffer[]; outcome: 'delivered' | 'closed' | 'ended-then-closed' }[] = [
    { name: 'items within the credit, then END', messages: (id) => [item(id, 1), item(id, 2), u32Payload(STREAM.END, id)], outcome: 'delivered' },
    { name: 'an item for another id', messages: (id) => [item(id + 1, 1)], outcome: 'closed' },
    { name: 'items beyond the credit', messages: (id) => [item(id, 1), item(id, 2), item(id, 3), item(id, 4), item(id, 5)], outcome: 'closed' },
    { name: 'an item after END', messages: (id) => [u32Payload(STREAM.END, id), item(id, 1)], outcome: 'ended-then-closed' },
    { name: 'a second END', messages: (id) => [u32Payload(STREAM.END, id), u32Payload(STREAM.END, id)], outcome: 'ended-then-closed' },
    { name: 'input credit on a stream without input', messages: (id) => [streamCreditPayload(STREAM.INPUT_CREDIT, id, 1)], outcome: 'closed' },
    { name: 'an END of 5 bytes', messages: (id) => [Buffer.concat([u32Payload(STREAM.END, id), Buffer.from([0])])], outcome: 'closed' },
    { name: 'a batch of items within the credit, then END', messages: (id) => [streamItemsPayload(STREAM.ITEMS, id, '[1,2]'), u32Payload(STREAM.END, id)], outcome: 'delivered' },
    { name: 'a batch beyond the credit', messages: (id) => [streamItemsPayload(STREAM.ITEMS, id, '[1,2,3,4,5]')], outcome: 'closed' },
    { name: 'an empty batch', messages: (id) => [streamItemsPayload(STREAM.ITEMS, id, '[]')], outcome: 'closed' },
    { name: 'a batch that is not an array', messages: (id) => [streamItemsPayload(STREAM.ITEMS, id, '7')], outcome: 'closed' },
    { name: 'a batch of 5 bytes (no JSON)', messages: (id) => [streamItemsPayload(STREAM.ITEMS, id, '')], outcome: 'closed' },
    { name: 'a batch for another id', messages: (id) => [streamItemsPayload(STREAM.ITEMS, id + 1, '[1]')], outcome: 'closed' },
    { name: 'a batch after END', messages: (id) => [u32Payload(STREAM.END, id), streamItemsPayload(STREAM.ITEMS, id, '[1]')], outcome: 'ended-then-closed' },
    { name: 'input stop on a stream without input', messages: (id) => [u32Payload(STREAM.INPUT_STOP, id)], outcome: 'closed' },
    { name: 'an input stop of 5 bytes', messages: (id) => [Buffer.concat([u32Payload(STREAM.INPUT_STOP, id), Buffer.from([0])])], outcome: 'closed' },
  ];

  for (const { name, messages, outcome } of cases) {
    it(`${name}: ${outcome}`, async () => {
      const { link, id, results } = await serverOpens();
      expect(await stillOpen(link, messages(id))).toBe(outcome === 'delivered');
      const { items, error } = await results;
      if (outcome === 'closed') expect(error).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
      else {
        expect(error).toBeUndefined();
        expect(items).toEqual(outcome === 'delivered' ? [1, 2] : []);
      }
      await healthyStillWorks();
    });
  }

  it('the open is version 2; a version-1 peer refusing it gets the same open again as version 1, and the stream works', async () => {
    const { link, id, frame, results } = await serverOpens();
    expect(frame[8]).toBe(2); // OPEN version
    const head = Buffer.from([RPC.ERROR, 0, 0, 0, 0, 1]);
    head.writeUInt32BE(id, 1);
    link.send(Buffer.concat([head, Buffer.from('{"message":"stream protocol version 2 is not supported (this side speaks 1)"}')]));
    const again = await link.next((f) => f[0] === RPC.REQUEST && f !== frame);
    expect(again!.readUInt32BE(1)).toBe(id);
    expect(again![8]).toBe(1);
    expect(again!.subarray(9)).toEqual(frame.subarray(9));
    // Version 1 from now on: one ITEM per item works, a batch is a protocol error.
    link.sendAll([item(id, 1), item(id, 2), u32Payload(STREAM.END, id)]);
    expect(await results).toEqual({ items: [1, 2], error: undefined });
  });

  it('INPUT_STOP closes the caller\'s input at its source (its finally runs), ends it with INPUT_END, and the items keep coming', async () => {
    let finallyRan = false;
    async function* input(): AsyncGenerator<string> {
      try {
        for (let i = 0; ; i++) yield `in${i}`;
      } finally {
        finallyRan = true;
      }
    }
    const { link, id, results } = await serverOpens(4, input());
    link.send(streamCreditPayload(STREAM.INPUT_CREDIT, id, 2));
    await link.next((f) => (f[0] === STREAM.INPUT_ITEM || f[0] === STREAM.INPUT_ITEMS) && f.readUInt32BE(1) === id);
    link.send(u32Payload(STREAM.INPUT_STOP, id));
    expect(await link.next((f) => f[0] === STREAM.INPUT_END && f.readUInt32BE(1) === id)).toBeDefined();
    expect(finallyRan).toBe(true);
    // A second stop (crossing the end) is ignored; the output still flows.
    expect(await stillOpen(link, [u32Payload(STREAM.INPUT_STOP, id), item(id, 'out'), u32Payload(STREAM.END, id)])).toBe(true);
    expect(await results).toEqual({ items: ['out'], error: undefined });
    expect(link.frames.filter((f) => f[0] === RPC.CANCEL)).toEqual([]);
  });

  it('input credit past the maximum closes the link; within it the input flows', async () => {
    async function* input(): AsyncGenerator<string> {
      yield 'a';
      await new Promise(() => {});
    }
    const { link, id, results } = await serverOpens(4, input());
    link.send(streamCreditPayload(STREAM.INPUT_CREDIT, id, 0x7fff_ffff));
    const first = await link.next((f) => f[0] === STREAM.INPUT_ITEM || f[0] === STREAM.INPUT_ITEMS);
    expect(streamFrameItems(first!)).toEqual(['a']);
    expect(await stillOpen(link, [streamCreditPayload(STREAM.INPUT_CREDIT, id, 2)])).toBe(false);
    expect((await results).error).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
  });
});

const item = (id: number, value: unknown): Buffer => streamItemPayload(STREAM.ITEM, id, ENCODING.JSON, JSON.stringify(value));

describe('fuzz: random stream message sequences', () => {
  const idArb = fc.constantFrom(0, 1, 2, 3, 0xffff_ffff);
  const messageArb: fc.Arbitrary<Buffer> = fc.oneof(
    fc.tuple(idArb, fc.constantFrom('hold', 'deaf', 'count', 'sink', 'nope', ''), fc.integer({ min: 0, max: 3 }), fc.constantFrom(0, 1, 16, 0x7fff_ffff, 0x8000_0000), fc.constantFrom(1, 2, 3))
      .map(([id, method, flags, credit, version]) => streamOpenPayload(id, method, method === 'count' ? '3' : '', { flags, credit, version })),
    fc.tuple(fc.constantFrom(STREAM.CREDIT, STREAM.INPUT_CREDIT), idArb, fc.constantFrom(0, 1, 5, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff)).map(([t, id, g]) => streamCreditPayload(t, id, g)),
    fc.tuple(fc.constantFrom(STREAM.ITEM, STREAM.INPUT_ITEM), idArb, fc.constantFrom(0, 1, 2, 7), fc.constantFrom('1', '{', '', '"x"')).map(([t, id, e, p]) => streamItemPayload(t, id, e, p)),
    fc.tuple(fc.constantFrom(STREAM.ITEMS, STREAM.INPUT_ITEMS), idArb, fc.constantFrom('[1]', '[1,"x",null]', '[]', '{', '7', '', '[' + '1,'.repeat(20) + '1]')).map(([t, id, p]) => streamItemsPayload(t, id, p)),
    fc.tuple(fc.constantFrom(STREAM.END, STREAM.INPUT_END, STREAM.INPUT_STOP, RPC.CANCEL), idArb).map(([t, id]) => u32Payload(t, id)),
    fc.tuple(fc.integer({ min: STREAM.ITEM, max: STREAM.INPUT_STOP }), fc.uint8Array({ maxLength: 12 })).map(([t, b]) => Buffer.concat([Buffer.from([t]), b])),
  );

  it('never crashes: the link stays open or closes with ERR_PROTOCOL, and other connections are unaffected', async () => {
    const stats = new FuzzCounter('rpc/streams/sequences');
    counters.push(stats);
    const errorsBefore = serverErrors.length;
    await fc.assert(
      fc.asyncProperty(fc.array(messageArb, { minLength: 1, maxLength: 8 }), async (messages) => {
        stats.runs++;
        const { link } = await open();
        const open_ = await stillOpen(link, messages);
        stats.add(open_ ? 'stayed-open' : 'closed');
        link.destroy();
        await link.outcome;
        await healthyStillWorks();
      }),
      fuzzParams(60),
    );
    for (const error of serverErrors.slice(errorsBefore)) expect((error as { code?: string }).code).toBe('ERR_PROTOCOL');
    await expect.poll(() => [...server.peers.values()].reduce((n, p) => n + p.stats.openStreams, 0)).toBe(0);
  });
});
