import { describe, expect, it } from 'vitest';
import { createOfflineQueue } from '../src/offline-queue.js';

const prefix = Buffer.from([2, 0, 1, 0x61]);

describe('the offline queue (a MessageWindow whose messages leave when written)', () => {
  it('keeps order and counts bytes (UTF-8)', () => {
    const queue = createOfflineQueue({});
    queue.push([prefix, '"é"']);
    queue.push([prefix, Buffer.from([1, 2])]);
    expect(queue.length).toBe(2);
    expect(queue.bytes).toBe(4 + 4 + 4 + 2);
    expect(queue.shift()).toEqual([prefix, '"é"']);
    expect(queue.shift()).toEqual([prefix, Buffer.from([1, 2])]);
    expect(queue.shift()).toBeUndefined();
    expect(queue.bytes).toBe(0);
  });

  it('has the documented default bounds', () => {
    const queue = createOfflineQueue({});
    expect(queue.maxMessages).toBe(1000);
    expect(queue.maxBytes).toBe(1024 * 1024);
  });

  it('throws ERR_BUFFER_OVERFLOW past maxMessages, queueing nothing', () => {
    const queue = createOfflineQueue({ maxMessages: 2 });
    queue.push([prefix, '1']);
    queue.push([prefix, '2']);
    expect(() => queue.push([prefix, '3'])).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_OVERFLOW' }));
    expect(queue.length).toBe(2);
  });

  it('throws ERR_BUFFER_OVERFLOW past maxBytes', () => {
    const queue = createOfflineQueue({ maxBytes: 10 });
    queue.push([prefix, '12345']);
    expect(() => queue.push([prefix, '1'])).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_OVERFLOW' }));
    expect(queue.bytes).toBe(9);
  });

  it('peek leaves the oldest in front until it was written', () => {
    const queue = createOfflineQueue({});
    queue.push([prefix, '1']);
    queue.push([prefix, '2']);
    expect(queue.peek()).toEqual([prefix, '1']);
    expect(queue.peek()).toEqual([prefix, '1']);
    expect(queue.shift()).toEqual([prefix, '1']);
    expect(queue.shift()).toEqual([prefix, '2']);
  });

  it('validates its bounds', () => {
    expect(() => createOfflineQueue({ maxMessages: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => createOfflineQueue({ maxBytes: Number.NaN })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });
});
