import { describe, expect, it } from 'vitest';
import { acceptableScryptParams, DEFAULT_SCRYPT_PARAMS, deriveKey, KeyCache } from '../src/key-derivation.js';

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
});
