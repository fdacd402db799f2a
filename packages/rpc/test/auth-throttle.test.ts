import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../src/auth-throttle.js';

describe('AuthThrottle', () => {
  it('lets a clean address through at once', () => {
    const throttle = new AuthThrottle();
    expect(throttle.reserveCheck('1.2.3.4', 0).waitMs).toBe(0);
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
    expect(throttle.reserveCheck('a', 0).waitMs).toBe(100);
    expect(throttle.reserveCheck('a', 0).waitMs).toBe(200);
    expect(throttle.reserveCheck('a', 0).waitMs).toBe(300);
    expect(throttle.reserveCheck('b', 0).waitMs).toBe(0); // other addresses unaffected
  });

  it('bounds the attempt rate of a persistent guesser', () => {
    const throttle = new AuthThrottle({ maxDelayMs: 5000 }); // 100 ms doubling to 5 s
    let now = 0;
    let attempts = 0;
    while (now < 60_000) {
      const reservation = throttle.reserveCheck('a', now);
      now += reservation.waitMs;
      throttle.checked(reservation, now);
      attempts++;
      now += throttle.recordFailure('a', now);
    }
    expect(attempts).toBeLessThanOrEqual(20); // ~0.2 attempts per second once saturated
    expect(attempts).toBeGreaterThan(5);
  });

  // Regression test for issue 10 item 1: each proof reserved the address's next check a delay later
  // and a connection hanging up never gave it back, so 2,000 abandoned proofs pushed the address's
  // next check hours away and every honest client behind that address (all of a Unix socket's) timed out.
  it('no check waits more than maxDelayMs, however many proofs wait or were abandoned', () => {
    const throttle = new AuthThrottle({ baseDelayMs: 100, maxDelayMs: 2000 });
    for (let i = 0; i < 8; i++) throttle.recordFailure('a', 0); // eight free pre-auth protocol errors
    const abandoned = Array.from({ length: 2000 }, () => throttle.reserveCheck('a', 0));
    expect(Math.max(...abandoned.map((r) => r.waitMs))).toBe(2000);
    expect(throttle.waiting('a')).toBe(2000);
    for (const r of abandoned) throttle.release(r); // every one of them hung up before its check
    expect(throttle.waiting('a')).toBe(0);
    // An honest client of the same address, right after: checked within maxDelayMs...
    const honest = throttle.reserveCheck('a', 10);
    expect(honest.waitMs).toBeLessThanOrEqual(2000);
    throttle.checked(honest, 10 + honest.waitMs);
    throttle.recordSuccess('a');
    // ...and once it authenticated the address is clean.
    expect(throttle.reserveCheck('a', 3000).waitMs).toBe(0);
  });

  it('checks proofs still waiting together at maxDelayMs instead of queueing them past it', () => {
    const throttle = new AuthThrottle({ baseDelayMs: 1000, maxDelayMs: 1000 });
    throttle.recordFailure('a', 0);
    const waits = Array.from({ length: 5 }, () => throttle.reserveCheck('a', 0).waitMs);
    expect(waits).toEqual([1000, 1000, 1000, 1000, 1000]);
    // A proof arriving later waits at most maxDelayMs from its own arrival.
    const late = throttle.reserveCheck('a', 500);
    expect(late.waitMs).toBe(1000);
  });

  it('a released reservation gives its place back to the next proof', () => {
    const throttle = new AuthThrottle({ baseDelayMs: 100, maxDelayMs: 5000 });
    throttle.recordFailure('a', 0);
    const first = throttle.reserveCheck('a', 0); // at 100
    const second = throttle.reserveCheck('a', 0); // at 200
    throttle.release(second);
    expect(throttle.reserveCheck('a', 0).at).toBe(second.at); // not 300
    throttle.checked(first, 100);
  });

  it('a success does not clear an address while other proofs of it wait (a guesser sharing the address)', () => {
    const throttle = new AuthThrottle({ baseDelayMs: 100, maxDelayMs: 1000 });
    for (let i = 0; i < 4; i++) throttle.recordFailure('a', 0);
    const guess = throttle.reserveCheck('a', 0);
    const honest = throttle.reserveCheck('a', 0);
    throttle.checked(honest, honest.at);
    throttle.recordSuccess('a');
    expect(throttle.score('a', honest.at)).toBeGreaterThan(3);
    throttle.checked(guess, guess.at);
    throttle.recordSuccess('a'); // nothing waits any more: forgotten
    expect(throttle.size).toBe(0);
  });

  it('decays the score and forgets on success', () => {
    const throttle = new AuthThrottle({ halfLifeMs: 1000 });
    throttle.recordFailure('a', 0);
    throttle.recordFailure('a', 0);
    expect(throttle.score('a', 0)).toBe(2);
    expect(throttle.score('a', 1000)).toBeCloseTo(1);
    expect(throttle.reserveCheck('a', 60_000).waitMs).toBe(0);
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
