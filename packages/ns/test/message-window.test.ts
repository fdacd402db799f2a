import { describe, expect, it } from 'vitest';
import { MessageWindow, payloadBytes } from '../src/message-window.js';

const prefix = Buffer.from([2, 0, 1, 0x61]);
const overflow = expect.objectContaining({ code: 'ERR_BUFFER_OVERFLOW' });

describe('MessageWindow', () => {
  it('numbers messages from 1 and counts their bytes (UTF-8, parts)', () => {
    const window = new MessageWindow({ maxMessages: 10, maxBytes: 1000 });
    expect(window.lastSeq).toBe(0);
    expect(window.push([prefix, '"é"'])).toBe(1);
    expect(window.push(Buffer.from([1, 2]))).toBe(2);
    expect(window.push('abc')).toBe(3);
    expect(window.length).toBe(3);
    expect(window.bytes).toBe(4 + 4 + 2 + 3);
    expect(payloadBytes([prefix, 'é'])).toBe(6);
    expect(window.firstSeq).toBe(1);
    expect(window.lastSeq).toBe(3);
  });

  it('as an offline queue: shift takes the oldest, peek leaves it', () => {
    const window = new MessageWindow({ maxMessages: 10, maxBytes: 1000 }, 'offline queue');
    window.push('1');
    window.push('2');
    expect(window.peek()).toBe('1');
    expect(window.shift()).toBe('1');
    expect(window.shift()).toBe('2');
    expect(window.shift()).toBeUndefined();
    expect(window.bytes).toBe(0);
    expect(window.push('3')).toBe(3);
  });

  it('throws ERR_BUFFER_OVERFLOW past maxMessages, keeping nothing of the refused message', () => {
    const window = new MessageWindow({ maxMessages: 2, maxBytes: 1000 }, 'resume window');
    window.push('1');
    window.push('2');
    expect(() => window.push('3')).toThrow(overflow);
    expect(() => window.push('3')).toThrow(/resume window full/);
    expect(window.length).toBe(2);
    expect(window.lastSeq).toBe(2);
    expect(window.bytes).toBe(2);
  });

  it('throws ERR_BUFFER_OVERFLOW past maxBytes; a message of exactly the room fits', () => {
    const window = new MessageWindow({ maxMessages: 100, maxBytes: 10 });
    window.push('12345');
    expect(() => window.push('123456')).toThrow(overflow);
    expect(window.push('12345')).toBe(2);
    expect(window.bytes).toBe(10);
    expect(() => window.push('')).not.toThrow();
    expect(() => window.push('x')).toThrow(overflow);
  });

  it('ack drops cumulatively; old and repeated acks drop nothing; acks past the newest throw', () => {
    const window = new MessageWindow({ maxMessages: 100, maxBytes: 1000 });
    for (let i = 1; i <= 5; i++) window.push(String(i));
    expect(window.ack(2)).toBe(2);
    expect(window.firstSeq).toBe(3);
    expect(window.at(2)).toBeUndefined();
    expect(window.at(3)).toBe('3');
    expect(window.at(5)).toBe('5');
    expect(window.at(6)).toBeUndefined();
    expect(window.ack(2)).toBe(0);
    expect(window.ack(0)).toBe(0);
    expect(() => window.ack(6)).toThrow(RangeError);
    expect(window.ack(5)).toBe(3);
    expect(window.length).toBe(0);
    expect(window.bytes).toBe(0);
    expect(window.push('6')).toBe(6);
  });

  it('acks free room for new pushes (memory bounded by the window)', () => {
    const window = new MessageWindow({ maxMessages: 3, maxBytes: 1000 });
    for (let i = 1; i <= 10_000; i++) {
      window.push(String(i % 10));
      if (i % 3 === 0) expect(window.ack(i)).toBe(3);
    }
    expect(window.length).toBe(1);
    expect(window.lastSeq).toBe(10_000);
  });

  it('clear keeps numbering; reset starts at 1 again; both report what they dropped', () => {
    const window = new MessageWindow({ maxMessages: 100, maxBytes: 1000 });
    window.push('a');
    window.push('b');
    expect(window.clear()).toBe(2);
    expect(window.push('c')).toBe(3);
    expect(window.reset()).toBe(1);
    expect(window.push('d')).toBe(1);
  });

  it('waitForRoom resolves once at or below half of both bounds; failWaiters rejects', async () => {
    const window = new MessageWindow({ maxMessages: 4, maxBytes: 1000 });
    await window.waitForRoom();
    for (let i = 1; i <= 4; i++) window.push('x');
    expect(window.hasRoom).toBe(false);
    let resolved = false;
    const waiting = window.waitForRoom().then(() => (resolved = true));
    window.ack(1);
    await Promise.resolve();
    expect(resolved).toBe(false);
    window.ack(2);
    await waiting;
    expect(resolved).toBe(true);
    for (let i = 1; i <= 2; i++) window.push('x');
    const failing = window.waitForRoom();
    window.failWaiters(new Error('closed'));
    await expect(failing).rejects.toThrow('closed');
  });

  it('validates its bounds', () => {
    expect(() => new MessageWindow({ maxMessages: -1, maxBytes: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => new MessageWindow({ maxMessages: 1.5, maxBytes: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => new MessageWindow({ maxMessages: 1, maxBytes: Number.NaN })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(new MessageWindow({ maxMessages: Number.POSITIVE_INFINITY, maxBytes: 1 }).maxMessages).toBe(Number.POSITIVE_INFINITY);
  });
});
