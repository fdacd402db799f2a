import { describe, expect, it } from 'vitest';
import { AckScheduler } from '../src/ack-scheduler.js';
import { ManualTimers } from './manual-timers.js';

function setup(delayMs = 10) {
  const timers = new ManualTimers();
  const acks: number[] = [];
  const scheduler = new AckScheduler((received) => acks.push(received), { delayMs, timers });
  return { timers, acks, scheduler };
}

describe('AckScheduler', () => {
  it('batches: one ACK per delay, however many messages arrived in it', () => {
    const { timers, acks, scheduler } = setup();
    scheduler.linkOpened(10_000, 8 * 1024 * 1024);
    for (let i = 0; i < 100; i++) scheduler.onReceived(10);
    expect(acks).toEqual([]);
    expect(timers.count).toBe(1);
    timers.advance(9);
    expect(acks).toEqual([]);
    timers.advance(1);
    expect(acks).toEqual([100]);
    expect(timers.count).toBe(0);
    timers.advance(1000);
    expect(acks).toEqual([100]);
  });

  it('acknowledges at once at an eighth of the peer window (messages)', () => {
    const { timers, acks, scheduler } = setup();
    scheduler.linkOpened(200, 1_000_000);
    for (let i = 0; i < 24; i++) scheduler.onReceived(1);
    expect(acks).toEqual([]);
    scheduler.onReceived(1);
    expect(acks).toEqual([25]);
    expect(timers.count).toBe(0);
    for (let i = 0; i < 75; i++) scheduler.onReceived(1);
    expect(acks).toEqual([25, 50, 75, 100]);
  });

  it('acknowledges at once at an eighth of the peer window (bytes)', () => {
    const { acks, scheduler } = setup();
    scheduler.linkOpened(10_000, 8000);
    scheduler.onReceived(600);
    expect(acks).toEqual([]);
    scheduler.onReceived(400);
    expect(acks).toEqual([2]);
  });

  it('counts while the link is down but sends nothing; the next opening acknowledged it', () => {
    const { timers, acks, scheduler } = setup();
    scheduler.linkOpened(40, 1000);
    scheduler.onReceived(1);
    expect(timers.count).toBe(1);
    scheduler.linkClosed();
    expect(timers.count).toBe(0);
    scheduler.onReceived(1);
    scheduler.flush();
    timers.advance(100);
    expect(acks).toEqual([]);
    expect(scheduler.received).toBe(2);
    scheduler.linkOpened(40, 1000);
    expect(scheduler.acknowledged).toBe(2);
    scheduler.flush();
    expect(acks).toEqual([]);
    scheduler.onReceived(1);
    scheduler.flush();
    expect(acks).toEqual([3]);
  });

  it('reset starts a new session at 0', () => {
    const { acks, scheduler } = setup();
    scheduler.linkOpened(1, 1000);
    scheduler.onReceived(1);
    expect(acks).toEqual([1]);
    scheduler.reset();
    expect(scheduler.received).toBe(0);
    scheduler.linkOpened(1, 1000);
    scheduler.onReceived(1);
    expect(acks).toEqual([1, 1]);
  });

  it('leaves no timer behind across 1,000 link cycles', () => {
    const { timers, scheduler } = setup();
    for (let i = 0; i < 1000; i++) {
      scheduler.linkOpened(10_000, 1 << 20);
      scheduler.onReceived(5);
      expect(scheduler.pending).toBe(true);
      scheduler.linkClosed();
    }
    expect(timers.count).toBe(0);
    expect(scheduler.pending).toBe(false);
    expect(scheduler.received).toBe(1000);
  });
});
