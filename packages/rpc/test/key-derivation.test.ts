import { describe, expect, it } from 'vitest';
import { acceptableScryptParams, DEFAULT_SCRYPT_PARAMS, deriveKey, KeyCache, MAX_SCRYPT_BYTES, scryptCost, SerialDeriver } from '../src/key-derivation.js';

const fast = { log2N: 10, r: 8, p: 1 };
const salt = Buffer.alloc(16, 1);

describe('key derivation', () => {
  it('is deterministic and depends on password and salt', async () => {
    const a = await deriveKey('secret', salt, fast);
    expect(a).toHaveLength(32);
    expect((await deriveKey('secret', salt, fast)).equals(a)).toBe(true);
    expect((await deriveKey(Buffer.from('secret'), salt, fast)).equals(a)).toBe(true);
    expect((await deriveKey('secreT', salt, fast)).equals(a)).toBe(false);
    expect((await deriveKey('secret', Buffer.alloc(16, 2), fast)).equals(a)).toBe(false);
  });

  it('caches one derivation per password and salt, shared by concurrent callers', async () => {
    const cache = new KeyCache(2);
    const first = cache.get('pw', salt, fast);
    expect(cache.get('pw', salt, fast)).toBe(first);
    expect(cache.get('other', salt, fast)).not.toBe(first);
    expect(cache.size).toBe(2);
    cache.get('third', salt, fast);
    expect(cache.size).toBe(2);
    expect(cache.get('pw', salt, fast)).not.toBe(first); // evicted, derived again
    expect((await cache.get('pw', salt, fast)).equals(await first)).toBe(true);
  });

  it('accepts the defaults and refuses costs a hostile server could abuse', () => {
    expect(acceptableScryptParams(DEFAULT_SCRYPT_PARAMS)).toBe(true);
    expect(acceptableScryptParams({ log2N: 30, r: 8, p: 1 })).toBe(false);
    expect(acceptableScryptParams({ log2N: 14, r: 200, p: 1 })).toBe(false);
    expect(acceptableScryptParams({ log2N: 14, r: 8, p: 64 })).toBe(false);
    expect(acceptableScryptParams({ log2N: 2, r: 8, p: 1 })).toBe(false);
  });

  it('caps one derivation at 128 * N * r * p = 64 MiB (the old ceiling N 2^20, r 16, p 4 was 8 GiB of work)', () => {
    expect(scryptCost(DEFAULT_SCRYPT_PARAMS)).toBe(16 * 1024 * 1024);
    expect(MAX_SCRYPT_BYTES).toBe(64 * 1024 * 1024);
    expect(acceptableScryptParams({ log2N: 16, r: 8, p: 1 })).toBe(true); // exactly 64 MiB
    expect(acceptableScryptParams({ log2N: 19, r: 1, p: 1 })).toBe(true);
    expect(acceptableScryptParams({ log2N: 17, r: 8, p: 1 })).toBe(false);
    expect(acceptableScryptParams({ log2N: 16, r: 8, p: 2 })).toBe(false);
    expect(acceptableScryptParams({ log2N: 20, r: 16, p: 4 })).toBe(false);
    expect(acceptableScryptParams({ log2N: 14, r: 0, p: 1 })).toBe(false);
    expect(acceptableScryptParams({ log2N: 14, r: 8, p: 0 })).toBe(false);
  });
});

describe('SerialDeriver', () => {
  it('runs one derivation at a time and starts none for a handshake that failed while it waited', async () => {
    const deriver = new SerialDeriver(new KeyCache(8));
    const first = new AbortController();
    const second = new AbortController();
    const third = new AbortController();
    const a = deriver.derive('pw', Buffer.alloc(16, 1), fast, first.signal);
    expect(deriver.busy).toBe(true);
    const b = deriver.derive('pw', Buffer.alloc(16, 2), fast, second.signal);
    const c = deriver.derive('pw', Buffer.alloc(16, 3), fast, third.signal);
    second.abort(); // its handshake failed while the first derivation ran
    expect(await a).toHaveLength(32);
    expect(await b).toBeUndefined();
    expect(await c).toHaveLength(32);
    await deriver.idle();
    expect(deriver.busy).toBe(false);
  });

  it('starts nothing for an already aborted handshake', async () => {
    const deriver = new SerialDeriver(new KeyCache(8));
    expect(await deriver.derive('pw', salt, fast, AbortSignal.abort())).toBeUndefined();
    expect(deriver.busy).toBe(false);
  });
});
