import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { CreditBalance, CreditWindow } from '../src/credit.js';
import { FrameTooLargeError, NotConnectedError, ProtocolError } from '../src/errors.js';
import { Encoding, methodPrefix } from '../src/messages.js';
import { Inbox } from '../src/stream-inbox.js';
import { type ItemWire, ItemWriter, type ItemWriterOwner } from '../src/stream-batch.js';
import { creditBody, decodeOpen, isStreamOpen, MAX_CREDIT, openParts, readEnd, readGrant, readItem, readItems, StreamMessageType } from '../src/stream-messages.js';
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

/** An ItemWriterHost recording the frames (type, flattened body). */
function writerHost(maxFrameBytes = 1024 * 1024): ItemWire & ItemWriterOwner & { frames: [number, Buffer][]; full: boolean; flushErrors: Error[] } {
  const host = {
    frames: [] as [number, Buffer][],
    full: false,
    flushErrors: [] as Error[],
    method: 'm',
    maxFrameBytes,
    send(type: number, body: unknown): boolean {
      const flatBody = flat(body);
      if (flatBody.length + 1 > host.maxFrameBytes) throw new FrameTooLargeError(`frame of ${flatBody.length + 1} bytes`);
      host.frames.push([type, flatBody]);
      return !host.full;
    },
    flushFailed(error: Error): void {
      host.flushErrors.push(error);
    },
  };
  return host;
}

describe('ItemWriter', () => {
  it('batches the JSON items of a tick into one ITEMS frame; raw and undefined items go alone, in order', async () => {
    const host = writerHost();
    const writer = new ItemWriter(host, host, 9, StreamMessageType.ITEM, StreamMessageType.ITEMS, false);
    writer.write(1);
    writer.write({ b: 'x' });
    writer.write(Buffer.from([7]));
    writer.write('after');
    writer.write(undefined);
    writer.write([3]);
    expect(host.frames.map(([t]) => t)).toEqual([StreamMessageType.ITEMS, StreamMessageType.ITEM, StreamMessageType.ITEMS, StreamMessageType.ITEM]);
    await new Promise((resolve) => process.nextTick(resolve));
    const decoded = host.frames.map(([type, body]) => (type === StreamMessageType.ITEMS ? readItems(body) : readItem(body)));
    expect(decoded).toEqual([[1, { b: 'x' }], Buffer.from([7]), ['after'], undefined, [[3]]]);
    expect(host.frames.every(([, body]) => body.readUInt32BE(0) === 9)).toBe(true);
  });

  it('a batch never passes the frame limit; an item over the limit is ERR_RESULT_TOO_LARGE; backpressure of a late batch is reported', async () => {
    const host = writerHost(200);
    const writer = new ItemWriter(host, host, 1, StreamMessageType.ITEM, StreamMessageType.ITEMS, false);
    for (let i = 0; i < 40; i++) writer.write('abcdefgh');
    writer.flush();
    expect(host.frames.length).toBeGreaterThan(1);
    expect(host.frames.every(([, body]) => body.length + 1 <= 200)).toBe(true);
    expect(host.frames.flatMap(([, body]) => readItems(body) as string[]).length).toBe(40);
    expect(() => writer.write('x'.repeat(300))).toThrow(expect.objectContaining({ code: 'ERR_RESULT_TOO_LARGE' }));
    host.full = true;
    expect(writer.write(1)).toBe(true); // in the batch: the transport has not said anything yet
    await new Promise((resolve) => process.nextTick(resolve));
    expect(writer.congested).toBe(true);
    writer.drainedNow();
    expect(writer.congested).toBe(false);
  });

  it('a batch that fails at the end of the tick is reported to the stream, not thrown (a link going is not reported)', async () => {
    const host = writerHost();
    let failure: Error = new NotConnectedError('link gone');
    host.send = () => {
      throw failure;
    };
    const writer = new ItemWriter(host, host, 1, StreamMessageType.ITEM, StreamMessageType.ITEMS, false);
    writer.write(1);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(host.flushErrors).toEqual([]);
    failure = new Error('buffer overflow');
    writer.write(2);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(host.flushErrors).toEqual([failure]);
  });
});

describe('stream messages', () => {
  it('an open round-trips and looks like a REQUEST with an empty method', () => {
    const body = flat(openParts(7, 2, 1, 16, Encoding.JSON, methodPrefix('logs::tail')!, '{"n":2}'));
    expect(body.subarray(0, 6)).toEqual(Buffer.from([0, 0, 0, 7, Encoding.RAW, 0]));
    expect(isStreamOpen(body)).toBe(true);
    expect(decodeOpen(body)).toEqual({ id: 7, version: 2, flags: 1, credit: 16, method: 'logs::tail', params: { n: 2 } });
    const v1 = Buffer.from(body);
    v1[7] = 1;
    expect(decodeOpen(v1)).toMatchObject({ version: 1, method: 'logs::tail' });
    const v3 = Buffer.from(body);
    v3[7] = 3;
    expect(decodeOpen(v3)).toBe(3);
    const badFlags = Buffer.from(body);
    badFlags[8] = 0x81;
    expect(() => decodeOpen(badFlags)).toThrow(ProtocolError);
    const badUtf8 = Buffer.from(body);
    badUtf8[15] = 0xff;
    expect(() => decodeOpen(badUtf8)).toThrow(/UTF-8/);
    expect(isStreamOpen(Buffer.from([0, 0, 0, 1, Encoding.RAW, 0, 0x54]))).toBe(false);
  });

  it('items, credit and end bodies', () => {
    const host = writerHost();
    const single = new ItemWriter(host, host, 3, StreamMessageType.ITEM, undefined, false);
    single.write({ a: 1 });
    single.write(Buffer.from([9]));
    single.write(undefined);
    expect(host.frames.map(([type, body]) => [type, readItem(body)])).toEqual([
      [StreamMessageType.ITEM, { a: 1 }],
      [StreamMessageType.ITEM, Buffer.from([9])],
      [StreamMessageType.ITEM, undefined],
    ]);
    expect(() => new ItemWriter(host, host, 3, StreamMessageType.INPUT_ITEM, undefined, true).write(10n)).toThrow(/an input item of stream m is not JSON-serializable/);
    expect(() => readItems(Buffer.from('\0\0\0\x01[]'))).toThrow(ProtocolError);
    expect(() => readItems(Buffer.from('\0\0\0\x01{"a":1}'))).toThrow(ProtocolError);
    expect(() => readItems(Buffer.from('\0\0\0\x01[1,'))).toThrow(ProtocolError);
    expect(() => readItems(Buffer.from([0, 0, 0, 1, 0x5b, 0xff, 0x5d]))).toThrow(/UTF-8/);
    expect(readItems(Buffer.from('\0\0\0\x01[1,"a",null]'))).toEqual([1, 'a', null]);
    expect(readGrant(creditBody(1, 5))).toBe(5);
    expect(() => readGrant(creditBody(1, 0))).toThrow(ProtocolError);
    expect(() => readGrant(creditBody(1, 0x8000_0000))).toThrow(ProtocolError);
    expect(() => readGrant(Buffer.alloc(9))).toThrow(ProtocolError);
    expect(readEnd(Buffer.from([0, 0, 1, 0]))).toBe(256);
    expect(() => readEnd(Buffer.from([0, 0, 1]))).toThrow(ProtocolError);
  });
});
