import { afterEach, describe, expect, it } from 'vitest';
import { NsSocket } from '@proto/ns';
import { next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

describe('wildcard listeners', () => {
  it('* matches one segment, ** any number (including none), exact names only themselves', async () => {
    const { client, peer } = await resources.pair();
    const hits: string[] = [];
    peer.data('a::*', (_data, event) => hits.push(`a::* <- ${event.join('::')}`));
    peer.data(['a', '**'], (_data, event) => hits.push(`a::** <- ${event.join('::')}`));
    peer.data('a::b', (_data, event) => hits.push(`a::b <- ${event.join('::')}`));
    peer.data('*', (_data, event) => hits.push(`* <- ${event.join('::')}`));
    const done = next(peer, 'data::end');
    client.send('a', 0);
    client.send('a::b', 1);
    client.send(['a', 'b', 'c'], 2);
    client.send('z', 3);
    client.send('end');
    await done;
    expect(hits.sort()).toEqual(
      [
        'a::** <- a',
        '* <- a',
        'a::* <- a::b',
        'a::** <- a::b',
        'a::b <- a::b',
        'a::** <- a::b::c',
        '* <- z',
        '* <- end',
      ].sort(),
    );
  });

  it('data(p, fn) is on(["data", ...p], fn); listeners get (data, segments) and this.event', async () => {
    const { client, peer } = await resources.pair();
    const viaOn = new Promise<[unknown, string[], string]>((resolve) =>
      peer.on(['data', 'chat', '*'], function (this: { event: string }, data: unknown, event: string[]) {
        resolve([data, event, this.event]);
      }),
    );
    const viaData = next<[unknown, string[]]>(peer, 'data::chat::message');
    client.send(['chat', 'message'], { text: 'hi' });
    expect(await viaOn).toEqual([{ text: 'hi' }, ['chat', 'message'], 'data::chat::message']);
    expect(await viaData).toEqual([{ text: 'hi' }, ['chat', 'message']]);
  });

  it('dataOnce fires once; offData removes', async () => {
    const { client, peer } = await resources.pair();
    const once: unknown[] = [];
    const removed: unknown[] = [];
    const all: unknown[] = [];
    const onRemoved = (data: unknown): void => {
      removed.push(data);
    };
    peer.dataOnce('n', (data) => once.push(data));
    peer.data('n', onRemoved);
    peer.offData('n', onRemoved);
    const done = new Promise<void>((resolve) =>
      peer.data('n', (data) => {
        all.push(data);
        if (all.length === 3) resolve();
      }),
    );
    client.send('n', 1);
    client.send('n', 2);
    client.send('n', 3);
    await done;
    expect(once).toEqual([1]);
    expect(removed).toEqual([]);
    expect(peer.listenerCount('data::n')).toBe(1);
  });

  it('every message gets a fresh segments array (mutating one does not leak into the next)', async () => {
    const { client, peer } = await resources.pair();
    const seen: string[][] = [];
    peer.data('x::y', (_data, event) => {
      seen.push([...event]);
      event.push('mutated');
    });
    const done = next(peer, 'data::x::done');
    client.send('x::y');
    client.send('x::y');
    client.send('x::done');
    await done;
    expect(seen).toEqual([
      ['x', 'y'],
      ['x', 'y'],
    ]);
  });

  it('invalid event names throw ERR_INVALID_ARG synchronously from send and data', async () => {
    const { client } = await resources.pair();
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARG' });
    for (const event of ['', 'a::', '::a', 'a::::b', 'a::*', '**', 'x'.repeat(300), Array(400).fill('ab').join('::')]) {
      expect(() => client.send(event, 1), event.slice(0, 20)).toThrow(invalid);
    }
    expect(() => client.send([], 1)).toThrow(invalid);
    expect(() => client.send(['a', 'b::c'], 1)).toThrow(invalid);
    expect(() => client.send(['a', ''], 1)).toThrow(invalid);
    expect(() => client.data('', () => {})).toThrow(invalid);
    expect(() => client.data(['a', ''], () => {})).toThrow(invalid);
    // Validation comes before the connection check: a closed socket still reports the bad name.
    const idle = new NsSocket();
    expect(() => idle.send('a::', 1)).toThrow(invalid);
    expect(() => idle.send('ok', 1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
  });

  it('listener changes between messages take effect at once (on, removeListener, removeAllListeners, onAny, many)', async () => {
    const { client, peer } = await resources.pair();
    const log: string[] = [];
    const a = (n: unknown): void => {
      log.push(`a${String(n)}`);
    };
    const b = (n: unknown): void => {
      log.push(`b${String(n)}`);
    };
    const any = (event: unknown, n: unknown): void => {
      if (event === 'data::t') log.push(`any${String(n)}`);
    };
    const step = async (n: number): Promise<void> => {
      const got = next(peer, 'data::sync::now');
      client.send('t', n);
      client.send('sync::now');
      await got;
    };
    peer.data('t', a);
    await step(1);
    peer.on('data::*', b);
    await step(2);
    peer.removeListener(['data', 't'], a);
    await step(3);
    peer.onAny(any);
    await step(4);
    peer.offAny(any);
    peer.removeAllListeners('data::*');
    peer.many('data::t', 1, a);
    await step(5);
    await step(6);
    expect(log).toEqual(['a1', 'a2', 'b2', 'b3', 'any4', 'b4', 'a5']);
  });

  it('a listener removed by an earlier listener of the same message still runs for it (EventEmitter2 semantics)', async () => {
    const { client, peer } = await resources.pair();
    const log: string[] = [];
    const second = (): void => {
      log.push('second');
    };
    peer.data('x', () => {
      log.push('first');
      peer.offData('x', second);
    });
    peer.data('x', second);
    const done = next(peer, 'data::done');
    client.send('x');
    client.send('x');
    client.send('done');
    await done;
    expect(log).toEqual(['first', 'second', 'first']);
  });
});
