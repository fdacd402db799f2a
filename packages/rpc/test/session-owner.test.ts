import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sessionOwner } from '../src/session-owner.js';

describe('sessionOwner', () => {
  const key = Buffer.alloc(32, 7);

  it('is HMAC-SHA256(key, label ‖ usernameLen ‖ username), byte by byte', () => {
    const expected = createHmac('sha256', key).update('proto-rpc/1 session owner').update(Buffer.from([5])).update('alice').digest();
    expect(sessionOwner(key, 'alice')).toEqual(expected);
  });

  it('differs per user and per key', () => {
    expect(sessionOwner(key, 'alice').equals(sessionOwner(key, 'bob'))).toBe(false);
    expect(sessionOwner(key, '').equals(sessionOwner(Buffer.alloc(32, 8), ''))).toBe(false);
    expect(sessionOwner(key, '')).toEqual(sessionOwner(Buffer.from(key), ''));
  });
});
