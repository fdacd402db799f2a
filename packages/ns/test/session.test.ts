import type { FramePayload } from '@proto/framing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESUME, type ResolvedResumeOptions } from '../src/resume-options.js';
import { Session, type SessionPort } from '../src/session.js';
import { decodeAck, SessionMessageType } from '../src/session-messages.js';
import { ManualTimers } from './manual-timers.js';

/** A link in memory: frames queue up until `deliver`; `cut` loses what is in flight. */
class MemoryPort implements SessionPort {
  readonly inFlight: FramePayload[] = [];
  highWater = Number.POSITIVE_INFINITY;
  dead = false;
  #drainWaiters: (() => void)[] = [];

  send(payload: FramePayload): boolean {
    if (this.dead) throw new Error('link closed');
    this.inFlight.push(payload);
    return this.inFlight.length < this.highWater;
  }

  drained(): Promise<void> {
    if (this.dead) return Promise.reject(new Error('link closed'));
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  take(count = this.inFlight.length): FramePayload[] {
    const taken = this.inFlight.splice(0, count);
    if (this.inFlight.length < this.highWater) for (const resolve of this.#drainWaiters.splice(0)) resolve();
    return taken;
  }
}

function text(payload: FramePayload): string {
  if (typeof payload === 'string') return payload;
  return Buffer.from(payload as Uint8Array).toString();
}

const options = (overrides: Partial<ResolvedResumeOptions> = {}): ResolvedResumeOptions => ({ ...DEFAULT_RESUME, ...overrides });

/** Delivers to `receiver`: ACKs go to `sender`'s window, messages to `into` (and are counted). */
function deliver(frames: FramePayload[], receiver: Session, sender: Session, into: string[]): void {
  for (const frame of frames) {
    if (typeof frame !== 'string' && !Array.isArray(frame) && (frame as Buffer)[0] === SessionMessageType.ACK) {
      receiver.onAck(decodeAck(frame as Buffer));
      continue;
    }
    into.push(text(frame));
    receiver.onDelivered(text(frame).length);
  }
  void sender;
}

describe('Session', () => {
  it('writes at once when attached, keeps everything until acknowledged', () => {
    const timers = new ManualTimers();
    const session = new Session(options(), timers);
    const port = new MemoryPort();
    session.attach(port, { received: 0, maxMessages: 100, maxBytes: 1 << 20 });
    expect(session.send('a')).toBe(true);
    expect(session.send('b')).toBe(true);
    expect(port.take().map(text)).toEqual(['a', 'b']);
    expect(session.unacknowledged).toBe(2);
    session.onAck(1);
    expect(session.unacknowledged).toBe(1);
    expect(() => session.onAck(3)).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(() => session.onAck(0)).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
  });

  it('sends while detached go into the window and leave, in order, on the next link after what the peer received', () => {
    const session = new Session(options(), new ManualTimers());
    const first = new MemoryPort();
    session.attach(first, { received: 0, maxMessages: 100, maxBytes: 1 << 20 });
    for (const m of ['1', '2', '3']) session.send(m);
    session.detach();
    expect(session.send('4')).toBe(true);
    expect(session.send('5')).toBe(true);
    expect(session.fits(4)).toBe(false);
    expect(session.fits(2)).toBe(true);
    const second = new MemoryPort();
    session.attach(second, { received: 2, maxMessages: 100, maxBytes: 1 << 20 });
    expect(second.take().map(text)).toEqual(['3', '4', '5']);
    expect(session.window.firstSeq).toBe(3);
    expect(() => session.attach(new MemoryPort(), { received: 1, maxMessages: 1, maxBytes: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_PROTOCOL' }),
    );
  });

  it('a resend paces itself on the link (never more than its high-water mark in flight), new sends queue behind it', async () => {
    const session = new Session(options(), new ManualTimers());
    const first = new MemoryPort();
    session.attach(first, { received: 0, maxMessages: 100, maxBytes: 1 << 20 });
    for (let i = 1; i <= 10; i++) session.send(String(i));
    session.detach();
    const second = new MemoryPort();
    second.highWater = 3;
    session.attach(second, { received: 0, maxMessages: 100, maxBytes: 1 << 20 });
    expect(second.inFlight.length).toBe(3);
    session.send('11');
    expect(second.inFlight.length).toBe(3);
    const got: string[] = [];
    for (let turn = 0; turn < 50 && got.length < 11; turn++) {
      got.push(...second.take().map(text));
      await Promise.resolve();
      await Promise.resolve();
    }
    expect(got).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
  });

  it('the window bound refuses with ERR_BUFFER_OVERFLOW, and send returns false past three quarters of it', () => {
    const session = new Session(options({ maxMessages: 4 }), new ManualTimers());
    session.attach(new MemoryPort(), { received: 0, maxMessages: 100, maxBytes: 1 << 20 });
    expect(session.send('1')).toBe(true);
    expect(session.send('2')).toBe(true);
    expect(session.send('3')).toBe(true);
    expect(session.send('4')).toBe(false);
    expect(() => session.send('5')).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_OVERFLOW' }));
    expect(session.window.lastSeq).toBe(4);
  });

  it('renew of an established session drops the window and reports how many were not acknowledged', () => {
    const session = new Session(options(), new ManualTimers());
    expect(session.established).toBe(false);
    session.renew(Buffer.alloc(16, 1));
    expect(session.established).toBe(true);
    session.attach(new MemoryPort(), { received: 0, maxMessages: 100, maxBytes: 1 << 20 });
    session.send('1');
    session.send('2');
    session.onDelivered(1);
    session.detach();
    session.send('3');
    expect(session.renew(Buffer.alloc(16, 2))).toBe(3);
    expect(session.acks.received).toBe(0);
    expect(session.window.lastSeq).toBe(0);
    expect(session.counts().received).toBe(0);
    session.send('4');
    expect(session.forget()).toBe(1);
    expect(session.established).toBe(false);
  });

  it('messages queued before the first session become its first messages', () => {
    const session = new Session(options(), new ManualTimers());
    session.window.push('q1');
    session.window.shift();
    session.window.push('q2');
    session.window.push('q3');
    expect(session.renew(Buffer.alloc(16, 1))).toBe(0);
    const port = new MemoryPort();
    session.attach(port, { received: 0, maxMessages: 100, maxBytes: 1 << 20 });
    expect(port.take().map(text)).toEqual(['q2', 'q3']);
    expect(session.window.firstSeq).toBe(1);
  });

  it('a link that refuses writes (going away) stops the pump until the next link, without spinning', async () => {
    const session = new Session(options(), new ManualTimers());
    const dying = new MemoryPort();
    session.attach(dying, { received: 0, maxMessages: 100, maxBytes: 1 << 20 });
    dying.dead = true;
    expect(session.send('1')).toBe(false);
    session.send('2');
    await new Promise<void>((resolve) => setImmediate(resolve));
    session.detach();
    const next = new MemoryPort();
    session.attach(next, { received: 0, maxMessages: 100, maxBytes: 1 << 20 });
    expect(next.take().map(text)).toEqual(['1', '2']);
  });

  it('exactly once, in order, both ways, across seeded random cuts (in memory)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (seed) => {
        let state = seed;
        const random = (): number => {
          state = (state * 1103515245 + 12345) % 2 ** 31;
          return state / 2 ** 31;
        };
        const timers = new ManualTimers();
        const a = new Session(options({ maxMessages: 64 }), timers);
        const b = new Session(options({ maxMessages: 64 }), timers);
        const gotA: string[] = [];
        const gotB: string[] = [];
        let sentA = 0;
        let sentB = 0;
        for (let link = 0; link < 20; link++) {
          const toB = new MemoryPort();
          const toA = new MemoryPort();
          // The opening exchange: each side says what it received.
          a.attach(toB, b.counts());
          b.attach(toA, a.counts());
          const steps = Math.floor(random() * 60);
          for (let step = 0; step < steps; step++) {
            const r = random();
            if (r < 0.35 && a.window.length < 60) a.send(`a${String(++sentA)}`);
            else if (r < 0.7 && b.window.length < 60) b.send(`b${String(++sentB)}`);
            else if (r < 0.85) deliver(toB.take(Math.ceil(random() * toB.inFlight.length)), b, a, gotB);
            else if (r < 0.95) deliver(toA.take(Math.ceil(random() * toA.inFlight.length)), a, b, gotA);
            else timers.advance(10);
          }
          // The cut: whatever is in flight is lost.
          toB.dead = true;
          toA.dead = true;
          a.detach();
          b.detach();
          if (random() < 0.5 && a.window.length < 60) a.send(`a${String(++sentA)}`);
        }
        // A last calm link delivers everything.
        const toB = new MemoryPort();
        const toA = new MemoryPort();
        a.attach(toB, b.counts());
        b.attach(toA, a.counts());
        deliver(toB.take(), b, a, gotB);
        deliver(toA.take(), a, b, gotA);
        expect(gotB).toEqual(Array.from({ length: sentA }, (_, i) => `a${String(i + 1)}`));
        expect(gotA).toEqual(Array.from({ length: sentB }, (_, i) => `b${String(i + 1)}`));
      }),
      { numRuns: 200 },
    );
  });
});
