import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { CreditBalance, CreditWindow } from '../src/credit.js';
import { ProtocolError } from '../src/errors.js';
import { Encoding, methodPrefix } from '../src/messages.js';
import { Inbox } from '../src/stream-inbox.js';
import { creditBody, decodeOpen, isStreamOpen, itemBody, MAX_CREDIT, openParts, readEnd, readGrant, readItem } from '../src/stream-messages.js';
import { Pump, type PumpSink } from '../src/stream-pump.js';

const flat = (parts: unknown): Buffer =>
  Buffer.concat((Array.isArray(parts) ? parts : [parts]).map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p as Uint8Array))));

describe('CreditWindow (consumer side)', () => {
  it('refuses an item past the window and gives credit back in batches of half the window', () => {
    const window = new CreditWindow(16);
    for (let i = 0; i < 16; i++) window.received();
    expect(() => window.received()).toThrow(ProtocolError);
    const grants: number[] = [];
    for (let i = 0; i < 16; i++) {
      const grant = window.consumed();
      if (grant > 0) grants.push(grant);
    }
    expect(grants).toEqual([8, 8]);
    expect(window.outstanding).toBe(16);
  });

  it('a window of 1 grants every item', () => {
    const window = new CreditWindow(1);
    window.received();
    expect(window.consumed()).toBe(1);
    window.received();
    expect(() => window.received()).toThrow(ProtocolError);
  });
});

describe('CreditBalance (producer side)', () => {
  it('spends credit and refuses a grant past the maximum', () => {
    const balance = new CreditBalance(2);
    expect(balance.take()).toBe(true);
    expect(balance.take()).toBe(true);
    expect(balance.take()).toBe(false);
    balance.add(MAX_CREDIT);
    expect(() => balance.add(1)).toThrow(/overflow/);
  });
});

describe('Inbox', () => {
  it('delivers buffered items, then the producer error once, then done; grants as items are read', async () => {
    const grants: number[] = [];
    const inbox = new Inbox<number>({ grantCredit: (n) => grants.push(n) }, 4);
    inbox.push(1);
    inbox.push(2);
    inbox.fail(new Error('remote failure'));
    expect(await inbox.next()).toEqual({ value: 1, done: false });
    expect(await inbox.next()).toEqual({ value: 2, done: false });
    await expect(inbox.next()).rejects.toThrow('remote failure');
    expect(await inbox.next()).toEqual({ value: undefined, done: true });
    expect(grants).toEqual([]); // no credit once the producer is done
  });

  it('hands an item straight to a waiting reader; abort drops what is buffered; close ends it', async () => {
    const grants: number[] = [];
    const inbox = new Inbox<string>({ grantCredit: (n) => grants.push(n) }, 2);
    const waiting = inbox.next();
    inbox.push('a');
    expect(await waiting).toEqual({ value: 'a', done: false });
    expect(grants).toEqual([1]);
    inbox.push('b');
    inbox.abort(new Error('aborted'));
    await expect(inbox.next()).rejects.toThrow('aborted');
    const other = new Inbox<string>({ grantCredit: () => {} }, 2);
    other.push('x');
    const pending = [other.next(), other.next()];
    other.close();
    expect(await Promise.all(pending)).toEqual([
      { value: 'x', done: false },
      { value: undefined, done: true },
    ]);
    other.push('late'); // ignored once closed (still counted against the credit)
    expect(other.buffered).toBe(0);
  });
});

/** A sink recording what the pump sends; `full` makes sendItem report backpressure. */
function recordingSink(): PumpSink<number> & { items: number[]; ended: boolean; failures: [unknown, boolean][]; full: boolean; drain: () => void } {
  let release: (() => void) | undefined;
  const sink = {
    items: [] as number[],
    ended: false,
    failures: [] as [unknown, boolean][],
    full: false,
    sendItem(value: number): boolean {
      if (value === 666) throw new Error('too large');
      sink.items.push(value);
      return !sink.full;
    },
    sendEnd(): void {
      sink.ended = true;
    },
    failed(error: unknown, fromSource: boolean): void {
      sink.failures.push([error, fromSource]);
    },
    drained(): Promise<void> {
      return new Promise<void>((resolve) => (release = resolve));
    },
    drain(): void {
      release?.();
    },
  };
  return sink;
}

/** Lets every pending microtask run (the pump works in microtasks only). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Pump', () => {
  it('pulls the source only with credit, and holds it at its yield otherwise', async () => {
    let pulled = 0;
    let finallyRan = false;
    async function* source(): AsyncGenerator<number> {
      try {
        for (;;) yield ++pulled;
      } finally {
        finallyRan = true;
      }
    }
    const sink = recordingSink();
    const pump = new Pump(source(), sink, 3);
    pump.start();
    await settle();
    expect(sink.items).toEqual([1, 2, 3]);
    expect(pulled).toBe(3);
    pump.grant(2);
    await settle();
    expect(sink.items).toEqual([1, 2, 3, 4, 5]);
    pump.stop();
    await settle();
    expect(finallyRan).toBe(true);
    expect(sink.ended).toBe(false);
  });

  it('waits for the transport to drain after a send that reported backpressure', async () => {
    let pulled = 0;
    const sink = recordingSink();
    sink.full = true;
    const pump = new Pump(
      (function* () {
        for (;;) yield ++pulled;
      })(),
      sink,
      100,
    );
    pump.start();
    await settle();
    expect(sink.items).toEqual([1]);
    expect(pulled).toBe(1);
    sink.full = false;
    sink.drain();
    await settle();
    expect(sink.items.length).toBe(100);
    pump.stop();
  });

  it('reports a throwing source and a failed send (closing the source)', async () => {
    const sink = recordingSink();
    new Pump(
      (async function* () {
        yield 1;
        throw new Error('handler broke');
      })(),
      sink,
      10,
    ).start();
    await settle();
    expect(sink.items).toEqual([1]);
    expect(sink.failures).toEqual([[new Error('handler broke'), true]]);
    let closed = false;
    const other = recordingSink();
    new Pump(
      (function* () {
        try {
          yield 666;
          yield 2;
        } finally {
          closed = true;
        }
      })(),
      other,
      10,
    ).start();
    await settle();
    expect(other.failures).toEqual([[new Error('too large'), false]]);
    expect(closed).toBe(true);
    expect(other.items).toEqual([]);
  });
});

describe('stream messages', () => {
  it('an open round-trips and looks like a REQUEST with an empty method', () => {
    const body = flat(openParts(7, 1, 16, Encoding.JSON, methodPrefix('logs::tail')!, '{"n":2}'));
    expect(body.subarray(0, 6)).toEqual(Buffer.from([0, 0, 0, 7, Encoding.RAW, 0]));
    expect(isStreamOpen(body)).toBe(true);
    expect(decodeOpen(body)).toEqual({ id: 7, flags: 1, credit: 16, method: 'logs::tail', params: { n: 2 } });
    const v2 = Buffer.from(body);
    v2[7] = 2;
    expect(decodeOpen(v2)).toBe(2);
    const badFlags = Buffer.from(body);
    badFlags[8] = 0x81;
    expect(() => decodeOpen(badFlags)).toThrow(ProtocolError);
    const badUtf8 = Buffer.from(body);
    badUtf8[15] = 0xff;
    expect(() => decodeOpen(badUtf8)).toThrow(/UTF-8/);
    expect(isStreamOpen(Buffer.from([0, 0, 0, 1, Encoding.RAW, 0, 0x54]))).toBe(false);
  });

  it('items, credit and end bodies', () => {
    expect(readItem(flat(itemBody(3, { a: 1 }, 'x', false)))).toEqual({ a: 1 });
    expect(readItem(flat(itemBody(3, Buffer.from([9]), 'x', false)))).toEqual(Buffer.from([9]));
    expect(readItem(flat(itemBody(3, undefined, 'x', false)))).toBeUndefined();
    expect(() => itemBody(3, 10n, 'm', true)).toThrow(/an input item of stream m is not JSON-serializable/);
    expect(readGrant(creditBody(1, 5))).toBe(5);
    expect(() => readGrant(creditBody(1, 0))).toThrow(ProtocolError);
    expect(() => readGrant(creditBody(1, 0x8000_0000))).toThrow(ProtocolError);
    expect(() => readGrant(Buffer.alloc(9))).toThrow(ProtocolError);
    expect(readEnd(Buffer.from([0, 0, 1, 0]))).toBe(256);
    expect(() => readEnd(Buffer.from([0, 0, 1]))).toThrow(ProtocolError);
  });
});
