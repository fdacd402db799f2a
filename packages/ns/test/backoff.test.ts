import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, DEFAULT_RECONNECT, resolveReconnectOptions } from '../src/backoff.js';
import { Reconnector } from '../src/reconnect.js';

describe('backoff', () => {
  it('defaults: 100 ms, x2, capped at 30 s, full jitter, unlimited attempts', () => {
    expect(resolveReconnectOptions(true)).toEqual({ initialDelayMs: 100, maxDelayMs: 30_000, factor: 2, jitter: 1, maxAttempts: Infinity });
    expect(resolveReconnectOptions(false)).toBeUndefined();
    expect(resolveReconnectOptions(undefined)).toBeUndefined();
  });

  it('grows exponentially up to the cap (no jitter)', () => {
    const options = resolveReconnectOptions({ jitter: false })!;
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, options))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(30, options)).toBe(30_000);
    expect(backoffDelay(10_000, options)).toBe(30_000);
  });

  it('full jitter picks uniformly in [0, bound]', () => {
    expect(backoffDelay(3, DEFAULT_RECONNECT, 0)).toBe(400);
    expect(backoffDelay(3, DEFAULT_RECONNECT, 0.5)).toBe(200);
    expect(backoffDelay(3, DEFAULT_RECONNECT, 0.999999)).toBe(0);
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5, DEFAULT_RECONNECT)));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(1600);
  });

  it('partial jitter keeps a floor', () => {
    const options = resolveReconnectOptions({ jitter: 0.5, initialDelayMs: 1000 })!;
    expect(backoffDelay(1, options, 0.999999)).toBe(500);
  });

  it.each([
    { initialDelayMs: -1 },
    { maxDelayMs: 10, initialDelayMs: 100 },
    { factor: 0.5 },
    { jitter: 2 },
    { maxAttempts: 1.5 },
    { maxAttempts: -1 },
  ])('rejects %o with ERR_INVALID_ARG', (options) => {
    expect(() => resolveReconnectOptions(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });
});

describe('Reconnector', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('schedules one timer per failure, never two at once, and stops at maxAttempts', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const fired: string[] = [];
    const reconnector = new Reconnector(resolveReconnectOptions({ maxAttempts: 2, jitter: false })!, (target: string) => fired.push(target));
    expect(reconnector.schedule('a')).toEqual({ attempt: 1, delayMs: 100 });
    expect(reconnector.schedule('a')).toBeUndefined(); // one already pending
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(['a']);
    expect(reconnector.schedule('a')).toEqual({ attempt: 2, delayMs: 200 });
    await vi.advanceTimersByTimeAsync(200);
    expect(reconnector.schedule('a')).toBeUndefined(); // used up
    reconnector.reset();
    expect(reconnector.schedule('a')).toEqual({ attempt: 1, delayMs: 100 });
    reconnector.cancel();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fired).toEqual(['a', 'a']);
  });
});
