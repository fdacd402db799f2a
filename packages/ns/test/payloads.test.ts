import { afterEach, describe, expect, it } from 'vitest';
import { next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

const pair = () => resources.pair();

describe('payloads round-trip', () => {
  const values: [string, unknown][] = [
    ['object', { a: 1, b: 'two', c: [true, null] }],
    ['string', 'hello, wörld 👋'],
    ['empty string', ''],
    ['number', 42.5],
    ['negative zero-ish number', -7],
    ['null', null],
    ['true', true],
    ['false', false],
    ['nested arrays', [[1, [2, [3, []]]], ['x']]],
    ['empty object', {}],
    ['undefined', undefined],
  ];

  it.each(values)('%s', async (_label, value) => {
    const { client, peer } = await pair();
    const received = next<[unknown, string[]]>(peer, 'data::value::*');
    client.send(['value', 'kind'], value);
    const [data, event] = await received;
    expect(data).toEqual(value);
    expect(event).toEqual(['value', 'kind']);
  });

  it('1 MiB of bytes arrives as a Buffer, byte for byte', async () => {
    const { client, peer } = await pair();
    const bytes = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    const received = next<[unknown]>(peer, 'data::file::chunk');
    client.send(['file', 'chunk'], bytes);
    const [data] = await received;
    expect(Buffer.isBuffer(data)).toBe(true);
    expect((data as Buffer).equals(bytes)).toBe(true);
    expect(client.stats.bytesOut).toBeGreaterThan(bytes.length);
    expect(client.stats.bytesOut).toBeLessThan(bytes.length + 64); // no base64, no JSON
  });

  it('Uint8Array and empty bytes arrive as Buffers', async () => {
    const { client, peer } = await pair();
    const got: unknown[] = [];
    const done = new Promise<void>((resolve) =>
      peer.data('bin', (data) => {
        got.push(data);
        if (got.length === 2) resolve();
      }),
    );
    client.send('bin', new Uint8Array([9, 8, 7]));
    client.send('bin', Buffer.alloc(0));
    await done;
    expect(got.map((data) => [Buffer.isBuffer(data), [...(data as Buffer)]])).toEqual([
      [true, [9, 8, 7]],
      [true, []],
    ]);
  });

  it('the server can answer, and stats count messages', async () => {
    const { client, peer } = await pair();
    peer.data('ping', (data) => peer.send('pong', data));
    const pong = next<[unknown]>(client, 'data::pong');
    client.send('ping', { n: 1 });
    expect((await pong)[0]).toEqual({ n: 1 });
    expect(client.stats).toMatchObject({ messagesOut: 1, messagesIn: 1, reconnects: 0, lastError: undefined });
    expect(peer.stats).toMatchObject({ messagesOut: 1, messagesIn: 1 });
  });

  it('stats is one live object: the same on every read, counting on, and a spread copy is a snapshot', async () => {
    const { client, peer } = await pair();
    const stats = client.stats;
    expect(client.stats).toBe(stats); // nothing built per read
    const before = { ...stats };
    expect(Object.keys(before).sort()).toEqual(['bytesIn', 'bytesOut', 'lastError', 'messagesIn', 'messagesOut', 'reconnects']);
    const got = next<[unknown]>(peer, 'data::x');
    client.send('x', 1);
    await got;
    expect(stats.messagesOut).toBe(before.messagesOut + 1);
    expect(stats.bytesOut).toBeGreaterThan(before.bytesOut);
    expect(before.messagesOut).toBe(0);
    expect(JSON.parse(JSON.stringify(stats))).toMatchObject({ messagesOut: 1, messagesIn: 0 });
  });

  it('50 000 messages arrive in order, none lost', async () => {
    const { client, peer } = await pair();
    const count = 50_000;
    let expected = 0;
    let outOfOrder = 0;
    const done = new Promise<void>((resolve) =>
      peer.data('seq', (n) => {
        if (n !== expected) outOfOrder++;
        expected++;
        if (expected === count) resolve();
      }),
    );
    for (let i = 0; i < count; i++) {
      if (!client.send('seq', i)) await client.drained();
    }
    await done;
    expect(outOfOrder).toBe(0);
    expect(peer.stats.messagesIn).toBe(count);
  });
});
