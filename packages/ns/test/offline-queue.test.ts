import { describe, expect, it } from 'vitest';
import { OfflineQueue } from '../src/offline-queue.js';

const prefix = Buffer.from([2, 0, 1, 0x61]);

describe('OfflineQueue', () => {
  it('keeps order and counts bytes (UTF-8)', () => {
    const queue = new OfflineQueue({});
    queue.push(prefix, '"é"');
    queue.push(prefix, Buffer.from([1, 2]));
    expect(queue.length).toBe(2);
    expect(queue.bytes).toBe(4 + 4 + 4 + 2);
    expect(queue.shift()?.[1]).toBe('"é"');
    expect(queue.shift()?.[1]).toEqual(Buffer.from([1, 2]));
    expect(queue.shift()).toBeUndefined();
    expect(queue.bytes).toBe(0);
  });

  it('throws ERR_BUFFER_OVERFLOW past maxMessages, queueing nothing', () => {
    const queue = new OfflineQueue({ maxMessages: 2 });
    queue.push(prefix, '1');
    queue.push(prefix, '2');
    expect(() => queue.push(prefix, '3')).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_OVERFLOW' }));
    expect(queue.length).toBe(2);
  });

  it('throws ERR_BUFFER_OVERFLOW past maxBytes', () => {
    const queue = new OfflineQueue({ maxBytes: 10 });
    queue.push(prefix, '12345');
    expect(() => queue.push(prefix, '1')).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_OVERFLOW' }));
    expect(queue.bytes).toBe(9);
  });

  it('unshift puts an item back in front', () => {
    const queue = new OfflineQueue({});
    queue.push(prefix, '1');
    queue.push(prefix, '2');
    const first = queue.shift()!;
    queue.unshift(first);
    expect(queue.shift()?.[1]).toBe('1');
    expect(queue.shift()?.[1]).toBe('2');
  });

  it('validates its bounds', () => {
    expect(() => new OfflineQueue({ maxMessages: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => new OfflineQueue({ maxBytes: Number.NaN })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });
});
