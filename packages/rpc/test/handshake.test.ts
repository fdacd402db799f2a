import { describe, expect, it } from 'vitest';
import {
  clientProof,
  createNonce,
  decodeAuthOk,
  decodeChallenge,
  decodeProof,
  encodeChallenge,
  encodeProof,
  proofsMatch,
  serverProof,
  type Transcript,
} from '../src/handshake.js';
import { ProtocolError } from '../src/errors.js';
import { DEFAULT_SCRYPT_PARAMS } from '../src/key-derivation.js';

const key = Buffer.alloc(32, 7);

function transcript(overrides: Partial<Transcript> = {}): Transcript {
  return {
    flags: 0,
    channelBinding: undefined,
    params: DEFAULT_SCRYPT_PARAMS,
    salt: Buffer.alloc(16, 1),
    serverNonce: Buffer.alloc(32, 2),
    clientNonce: Buffer.alloc(32, 3),
    username: 'alice',
    ...overrides,
  };
}

describe('handshake messages', () => {
  it('round-trips a challenge', () => {
    const challenge = {
      version: 1,
      flags: 0x01,
      params: DEFAULT_SCRYPT_PARAMS,
      salt: Buffer.alloc(16, 9),
      serverNonce: createNonce(),
    };
    expect(decodeChallenge(encodeChallenge(challenge))).toEqual(challenge);
  });

  it('round-trips a proof with a UTF-8 username', () => {
    const proof = { version: 1, clientNonce: createNonce(), proof: Buffer.alloc(32, 5), username: 'zoë' };
    expect(decodeProof(encodeProof(proof))).toEqual(proof);
  });

  it('refuses truncated or padded bodies with ProtocolError', () => {
    const body = encodeChallenge({
      version: 1,
      flags: 0,
      params: DEFAULT_SCRYPT_PARAMS,
      salt: Buffer.alloc(16),
      serverNonce: createNonce(),
    });
    expect(() => decodeChallenge(body.subarray(0, body.length - 1))).toThrow(ProtocolError);
    expect(() => decodeChallenge(Buffer.concat([body, Buffer.from([0])]))).toThrow(ProtocolError);
    expect(() => decodeChallenge(Buffer.alloc(2))).toThrow(ProtocolError);
    expect(() => decodeProof(Buffer.alloc(10))).toThrow(ProtocolError);
    const saltless = Buffer.from(body);
    saltless[5] = 7; // a 7-byte salt: under the minimum of 8 (and the length no longer matches)
    expect(() => decodeChallenge(Buffer.concat([saltless.subarray(0, 6 + 7), saltless.subarray(6 + 16)]))).toThrow(/salt/);
    for (const at of [3, 4]) {
      const zero = Buffer.from(body);
      zero[at] = 0; // r = 0 or p = 0
      expect(() => decodeChallenge(zero)).toThrow(/r and p/);
    }
  });

  it('keeps the challenge flags byte as received, unknown bits included', () => {
    const body = encodeChallenge({ version: 1, flags: 0x81, params: DEFAULT_SCRYPT_PARAMS, salt: Buffer.alloc(16), serverNonce: createNonce() });
    expect(decodeChallenge(body).flags).toBe(0x81);
  });

  it('refuses a proof whose username is not valid UTF-8', () => {
    const body = encodeProof({ version: 1, clientNonce: createNonce(), proof: Buffer.alloc(32), username: 'ab' });
    body[body.length - 1] = 0xff;
    expect(() => decodeProof(body)).toThrow(/UTF-8/);
    expect(() => decodeAuthOk(Buffer.alloc(31))).toThrow(ProtocolError);
  });

  it('refuses usernames over 255 bytes', () => {
    expect(() =>
      encodeProof({ version: 1, clientNonce: createNonce(), proof: Buffer.alloc(32), username: 'x'.repeat(256) }),
    ).toThrow(ProtocolError);
  });

  it('uses fresh nonces', () => {
    expect(createNonce().equals(createNonce())).toBe(false);
  });
});

describe('proofs', () => {
  it('client and server proofs differ (no reflection)', () => {
    expect(clientProof(key, transcript()).equals(serverProof(key, transcript()))).toBe(false);
  });

  it('are deterministic for one transcript', () => {
    expect(proofsMatch(clientProof(key, transcript()), clientProof(key, transcript()))).toBe(true);
  });

  it.each([
    ['server nonce', { serverNonce: Buffer.alloc(32, 4) }],
    ['client nonce', { clientNonce: Buffer.alloc(32, 4) }],
    ['salt', { salt: Buffer.alloc(16, 4) }],
    ['username', { username: 'bob' }],
    ['channel binding', { channelBinding: Buffer.alloc(32, 4) }],
    ['scrypt parameters', { params: { log2N: 15, r: 8, p: 1 } }],
    ['challenge flags byte', { flags: 0x02 }],
  ] as const)('change when the %s changes', (_name, change) => {
    expect(proofsMatch(clientProof(key, transcript(change)), clientProof(key, transcript()))).toBe(false);
  });

  it('change with the key', () => {
    expect(proofsMatch(clientProof(Buffer.alloc(32, 8), transcript()), clientProof(key, transcript()))).toBe(false);
  });

  it('proofsMatch is false for a different length instead of throwing', () => {
    expect(proofsMatch(Buffer.alloc(31), Buffer.alloc(32))).toBe(false);
  });
});
