import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../src/auth-throttle.js';

describe('AuthThrottle', () => {
  it('lets a clean address through at once', () => {
    const throttle = new AuthThrottle();
    expect(throttle.reserveCheck('1.2.3.4', 0)).toBe(0);
    expect(throttle.size).toBe(0);
  });

  it('doubles the failure delay up to the cap', () => {
    const throttle = new AuthThrottle({ baseDelayMs: 100, maxDelayMs: 1000 });
    const delays = [0, 1, 2, 3, 4, 5].map(() => throttle.recordFailure('a', 0));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('spaces concurrent checks from one failing address', () => {
    const throttle = new AuthThrottle({ baseDelayMs: 100, maxDelayMs: 1000 });
    throttle.recordFailure('a', 0); // score 1: next check not before 100
    expect(throttle.reserveCheck('a', 0)).toBe(100);
    expect(throttle.reserveCheck('a', 0)).toBe(200);
    expect(throttle.reserveCheck('a', 0)).toBe(300);
    expect(throttle.reserveCheck('b', 0)).toBe(0); // other addresses unaffected
  });

  it('bounds the attempt rate of a persistent guesser', () => {
    const throttle = new AuthThrottle(); // 100 ms doubling to 5 s
    let now = 0;
    let attempts = 0;
    while (now < 60_000) {
      now += throttle.reserveCheck('a', now);
      attempts++;
      now += throttle.recordFailure('a', now);
    }
    expect(attempts).toBeLessThanOrEqual(20); // ~0.2 attempts per second once saturated
    expect(attempts).toBeGreaterThan(5);
  });

  it('decays the score and forgets on success', () => {
    const throttle = new AuthThrottle({ halfLifeMs: 1000 });
    throttle.recordFailure('a', 0);
    throttle.recordFailure('a', 0);
    expect(throttle.score('a', 0)).toBe(2);
    expect(throttle.score('a', 1000)).toBeCloseTo(1);
    expect(throttle.reserveCheck('a', 60_000)).toBe(0);
    expect(throttle.size).toBe(0);
    throttle.recordFailure('b', 0);
    throttle.recordSuccess('b');
    expect(throttle.size).toBe(0);
  });

  it('bounds the number of tracked addresses', () => {
    const throttle = new AuthThrottle({ maxAddresses: 3 });
    for (let i = 0; i < 10; i++) throttle.recordFailure(`10.0.0.${i}`, i);
    expect(throttle.size).toBe(3);
    expect(throttle.score('10.0.0.9', 10)).toBeGreaterThan(0.9);
  });
});
