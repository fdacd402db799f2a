import { describe, expect, it } from 'vitest';
import { resumeProof } from '../src/session-messages.js';
import { type SessionKeys, SessionStore } from '../src/session-store.js';
import { ManualTimers } from './manual-timers.js';

function setup(ttlMs = 1000, maxExpired?: number) {
  const timers = new ManualTimers();
  const expired: string[] = [];
  const store = new SessionStore<string>({ ttlMs, timers, onExpire: (value) => expired.push(value), ...(maxExpired === undefined ? {} : { maxExpired }) });
  return { timers, expired, store };
}

const alice = Buffer.from('alice');
const bob = Buffer.from('bob');
const nonce = Buffer.alloc(16, 1);

/** A claim with a correct proof for `keys` over `nonce`. */
function claim(keys: SessionKeys, owner: Uint8Array | undefined, linkNonce = nonce) {
  return { id: keys.id, proof: resumeProof(keys.secret, linkNonce, keys.id), nonce: linkNonce, owner };
}

describe('SessionStore', () => {
  it('creates random 16-byte ids and finds them for the same owner with a valid proof only', () => {
    const { store } = setup();
    const a = store.create('A', alice);
    const b = store.create('B', alice);
    expect(a.id.length).toBe(16);
    expect(a.secret.length).toBe(32);
    expect(a.id.equals(b.id)).toBe(false);
    expect(store.lookup(claim(a, alice))).toEqual({ status: 'found', value: 'A' });
    expect(store.lookup(claim(a, bob))).toEqual({ status: 'unknown' });
    expect(store.lookup(claim(a, undefined))).toEqual({ status: 'unknown' });
    expect(store.lookup({ ...claim(a, alice), proof: Buffer.alloc(16) })).toEqual({ status: 'unknown' });
    expect(store.lookup({ ...claim(a, alice), proof: Buffer.alloc(3) })).toEqual({ status: 'unknown' });
    expect(store.lookup(claim({ id: Buffer.alloc(16, 7), secret: a.secret }, alice))).toEqual({ status: 'unknown' });
    const open = store.create('C', undefined);
    expect(store.lookup(claim(open, undefined))).toEqual({ status: 'found', value: 'C' });
    expect(store.lookup(claim(open, alice))).toEqual({ status: 'unknown' });
  });

  it('a proof over another link\'s nonce, or over a rotated secret, finds nothing (a replay)', () => {
    const { store } = setup();
    const a = store.create('A', alice);
    const seen = claim(a, alice, Buffer.alloc(16, 2));
    expect(store.lookup({ ...seen, nonce })).toEqual({ status: 'unknown' });
    expect(store.lookup(seen).status).toBe('found');
    const rotated = store.rotate(a.id)!;
    expect(rotated.secret.equals(a.secret)).toBe(false);
    expect(store.lookup(seen)).toEqual({ status: 'unknown' });
    expect(store.lookup(claim(rotated, alice, Buffer.alloc(16, 2))).status).toBe('found');
    expect(store.rotate(Buffer.alloc(16, 9))).toBeUndefined();
  });

  it('keeps the owner it was given even if the caller reuses the buffer', () => {
    const { store } = setup();
    const owner = Buffer.from('carol');
    const keys = store.create('C', owner);
    owner.fill(0);
    expect(store.lookup(claim(keys, Buffer.from('carol'))).status).toBe('found');
  });

  it('forgets a detached session after ttlMs, then reports it expired', () => {
    const { timers, expired, store } = setup(1000);
    const keys = store.create('A', alice);
    const id = keys.id;
    store.detach(id);
    expect(store.detached).toBe(1);
    timers.advance(999);
    expect(store.lookup(claim(keys, alice)).status).toBe('found');
    timers.advance(1);
    expect(expired).toEqual(['A']);
    expect(store.size).toBe(0);
    expect(store.lookup(claim(keys, alice))).toEqual({ status: 'expired' });
    expect(timers.count).toBe(0);
  });

  it('attach stops the ttl; a later detach starts it over', () => {
    const { timers, expired, store } = setup(1000);
    const { id } = store.create('A', alice);
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
    store.detach(a.id);
    store.forget(a.id);
    expect(store.lookup(claim(a, alice))).toEqual({ status: 'unknown' });
    expect(timers.count).toBe(0);
    store.detach(b.id);
    store.clear();
    expect(timers.count).toBe(0);
    timers.advance(10_000);
    expect(expired).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('remembers at most maxExpired expired ids', () => {
    const { timers, store } = setup(10, 2);
    const keys = [store.create('1', alice), store.create('2', alice), store.create('3', alice)];
    for (const k of keys) store.detach(k.id);
    timers.advance(10);
    expect(store.lookup(claim(keys[0]!, alice)).status).toBe('unknown');
    expect(store.lookup(claim(keys[1]!, alice)).status).toBe('expired');
    expect(store.lookup(claim(keys[2]!, alice)).status).toBe('expired');
  });

  it('leaves no timer behind across 1,000 detach/attach cycles', () => {
    const { timers, store } = setup(1000);
    const { id } = store.create('A', alice);
    for (let i = 0; i < 1000; i++) {
      store.detach(id);
      store.attach(id);
    }
    expect(timers.count).toBe(0);
    expect(store.detached).toBe(0);
  });
});
