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

  it('links made with the same options share one interval timer, released when the last one stops', () => {
    const options = { intervalMs: 1000, timeoutMs: 500 };
    const hosts = [new Host(), new Host(), new Host()];
    const links = hosts.map((h) => new KeepAlive(h, options));
    links[0]!.start();
    vi.advanceTimersByTime(300);
    links[1]!.start();
    links[2]!.start();
    // One shared interval plus each link's ping deadline.
    expect(vi.getTimerCount()).toBe(4);
    for (const [i, link] of links.entries()) {
      hosts[i]!.bytesIn += 10;
      link.pong(1);
    }
    expect(vi.getTimerCount()).toBe(1);
    links[0]!.stop();
    links[1]!.stop();
    expect(links[2]!.tickerArmed).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    links[2]!.stop();
    expect(links[2]!.tickerArmed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    // A later link arms it again.
    links[1]!.start();
    expect(links[1]!.tickerArmed).toBe(true);
    links[1]!.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a link started between two shared ticks still pings only after silence, and is declared dead within intervalMs + timeoutMs', () => {
    const options = { intervalMs: 1000, timeoutMs: 500 };
    const first = new KeepAlive(new Host(), options);
    first.start();
    vi.advanceTimersByTime(499); // the shared tick comes 1 ms after the second link starts
    const late = new Host();
    const link = new KeepAlive(late, options);
    link.start();
    late.bytesIn += 10; // the pong, and the last byte this peer ever sends
    link.pong(1);
    vi.advanceTimersByTime(1);
    expect(late.pings).toEqual([1]); // the first look saw the pong's bytes: no ping yet
    vi.advanceTimersByTime(500);
    expect(late.pings).toEqual([1, 2]); // half an interval of silence
    vi.advanceTimersByTime(499);
    expect(late.dead).toBe(0);
    vi.advanceTimersByTime(1); // 1001 ms after its last byte <= intervalMs + timeoutMs
    expect(late.dead).toBe(1);
    first.stop();
  });
});

describe('KeepAlive timers and the event loop', () => {
  it('neither the shared interval nor a ping deadline keeps the process alive', () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    const options = { intervalMs: 60_000, timeoutMs: 60_000 };
    const links = [new KeepAlive(new Host(), options), new KeepAlive(new Host(), options)];
    for (const link of links) link.start(); // the shared interval and two deadlines, all unref'd
    expect(links[0]!.tickerArmed).toBe(true);
    expect(timeouts()).toBe(before);
    for (const link of links) link.stop();
    expect(links[0]!.tickerArmed).toBe(false);
  });
});
