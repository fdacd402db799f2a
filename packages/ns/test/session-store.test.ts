import { describe, expect, it } from 'vitest';
import { SessionStore } from '../src/session-store.js';
import { ManualTimers } from './manual-timers.js';

function setup(ttlMs = 1000, maxExpired?: number) {
  const timers = new ManualTimers();
  const expired: string[] = [];
  const store = new SessionStore<string>({ ttlMs, timers, onExpire: (value) => expired.push(value), ...(maxExpired === undefined ? {} : { maxExpired }) });
  return { timers, expired, store };
}

const alice = Buffer.from('alice');
const bob = Buffer.from('bob');

describe('SessionStore', () => {
  it('creates random 16-byte ids and finds them for the same owner only', () => {
    const { store } = setup();
    const a = store.create('A', alice);
    const b = store.create('B', alice);
    expect(a.length).toBe(16);
    expect(a.equals(b)).toBe(false);
    expect(store.lookup(a, alice)).toEqual({ status: 'found', value: 'A' });
    expect(store.lookup(a, bob)).toEqual({ status: 'unknown' });
    expect(store.lookup(a, undefined)).toEqual({ status: 'unknown' });
    expect(store.lookup(Buffer.alloc(16, 7), alice)).toEqual({ status: 'unknown' });
    const open = store.create('C', undefined);
    expect(store.lookup(open, undefined)).toEqual({ status: 'found', value: 'C' });
    expect(store.lookup(open, alice)).toEqual({ status: 'unknown' });
  });

  it('keeps the owner it was given even if the caller reuses the buffer', () => {
    const { store } = setup();
    const owner = Buffer.from('carol');
    const id = store.create('C', owner);
    owner.fill(0);
    expect(store.lookup(id, Buffer.from('carol')).status).toBe('found');
  });

  it('forgets a detached session after ttlMs, then reports it expired', () => {
    const { timers, expired, store } = setup(1000);
    const id = store.create('A', alice);
    store.detach(id);
    expect(store.detached).toBe(1);
    timers.advance(999);
    expect(store.lookup(id, alice).status).toBe('found');
    timers.advance(1);
    expect(expired).toEqual(['A']);
    expect(store.size).toBe(0);
    expect(store.lookup(id, alice)).toEqual({ status: 'expired' });
    expect(timers.count).toBe(0);
  });

  it('attach stops the ttl; a later detach starts it over', () => {
    const { timers, expired, store } = setup(1000);
    const id = store.create('A', alice);
    store.detach(id);
    timers.advance(900);
    store.attach(id);
    timers.advance(5000);
    expect(expired).toEqual([]);
    store.detach(id);
    timers.advance(900);
    store.detach(id);
    timers.advance(900);
    expect(expired).toEqual([]);
    timers.advance(100);
    expect(expired).toEqual(['A']);
  });

  it('forget drops a session at once without onExpire; clear drops all and their timers', () => {
    const { timers, expired, store } = setup(1000);
    const a = store.create('A', alice);
    const b = store.create('B', bob);
    store.detach(a);
    store.forget(a);
    expect(store.lookup(a, alice)).toEqual({ status: 'unknown' });
    expect(timers.count).toBe(0);
    store.detach(b);
    store.clear();
    expect(timers.count).toBe(0);
    timers.advance(10_000);
    expect(expired).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('remembers at most maxExpired expired ids', () => {
    const { timers, store } = setup(10, 2);
    const ids = [store.create('1', alice), store.create('2', alice), store.create('3', alice)];
    for (const id of ids) store.detach(id);
    timers.advance(10);
    expect(store.lookup(ids[0]!, alice).status).toBe('unknown');
    expect(store.lookup(ids[1]!, alice).status).toBe('expired');
    expect(store.lookup(ids[2]!, alice).status).toBe('expired');
  });

  it('leaves no timer behind across 1,000 detach/attach cycles', () => {
    const { timers, store } = setup(1000);
    const id = store.create('A', alice);
    for (let i = 0; i < 1000; i++) {
      store.detach(id);
      store.attach(id);
    }
    expect(timers.count).toBe(0);
    expect(store.detached).toBe(0);
  });
});
