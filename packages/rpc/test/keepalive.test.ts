import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeepAlive, type KeepAliveHost } from '../src/keepalive.js';

class Host implements KeepAliveHost {
  bytesIn = 0;
  pings: number[] = [];
  dead = 0;
  keepAliveBytesIn(): number {
    return this.bytesIn;
  }
  keepAliveSendPing(seq: number): void {
    this.pings.push(seq);
  }
  keepAliveTimedOut(): void {
    this.dead++;
  }
}

describe('KeepAlive', () => {
  let host: Host;
  let keepAlive: KeepAlive;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    host = new Host();
    keepAlive = new KeepAlive(host, { intervalMs: 1000, timeoutMs: 500 });
  });
  afterEach(() => {
    keepAlive.stop();
    vi.useRealTimers();
  });

  it('pings once at start and measures the RTT from the pong', () => {
    keepAlive.start();
    expect(host.pings).toEqual([1]);
    expect(keepAlive.rttMs).toBeUndefined();
    host.bytesIn += 5;
    keepAlive.pong(1);
    expect(keepAlive.rttMs).toBeGreaterThanOrEqual(0);
  });

  it('sends no pings while traffic keeps arriving', () => {
    keepAlive.start();
    keepAlive.pong(1);
    for (let i = 0; i < 20; i++) {
      host.bytesIn += 10;
      vi.advanceTimersByTime(500);
    }
    expect(host.pings).toEqual([1]);
    expect(host.dead).toBe(0);
  });

  it('pings an idle link and keeps it when anything comes back', () => {
    keepAlive.start();
    host.bytesIn += 5;
    keepAlive.pong(1);
    vi.advanceTimersByTime(1000); // one tick sees the pong bytes, the next sees silence
    expect(host.pings).toEqual([1, 2]);
    // A peer that answers every ping stays alive indefinitely, pinged about once per interval.
    let answered = 2;
    host.bytesIn += 5;
    keepAlive.pong(2);
    for (let t = 0; t < 10_000; t += 100) {
      const seq = host.pings.at(-1)!;
      if (seq !== answered) {
        answered = seq;
        host.bytesIn += 5;
        keepAlive.pong(seq);
      }
      vi.advanceTimersByTime(100);
    }
    expect(host.dead).toBe(0);
    expect(host.pings.length).toBeGreaterThanOrEqual(10);
    expect(host.pings.length).toBeLessThanOrEqual(12);
  });

  it('declares a silent peer dead within intervalMs + timeoutMs of its last byte', () => {
    keepAlive.start();
    host.bytesIn += 5; // last byte ever, at t=0
    keepAlive.pong(1);
    vi.advanceTimersByTime(1499);
    expect(host.dead).toBe(0);
    vi.advanceTimersByTime(1);
    expect(host.dead).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('at most one ping outstanding; bytes without a pong re-ping at the deadline; dead within max(intervalMs, timeoutMs) + timeoutMs', () => {
    const slow = new KeepAlive(host, { intervalMs: 1000, timeoutMs: 3000 });
    slow.start(); // ping 1 at t=0, outstanding until t=3000
    host.bytesIn += 5; // the peer's last byte ever, at t=0, not a pong
    vi.advanceTimersByTime(2999);
    expect(host.pings).toEqual([1]); // idle ticks send nothing while ping 1 is outstanding
    vi.advanceTimersByTime(1);
    expect(host.pings).toEqual([1, 2]); // deadline: bytes came but no pong, so ask again at once
    vi.advanceTimersByTime(2999);
    expect(host.dead).toBe(0);
    vi.advanceTimersByTime(1); // t = 6000 = max(1000, 3000) + 3000 after the last byte
    expect(host.dead).toBe(1);
    expect(host.pings).toEqual([1, 2]);
    slow.stop();
  });

  it('releases its timers on stop', () => {
    keepAlive.start();
    expect(vi.getTimerCount()).toBe(2);
    keepAlive.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
