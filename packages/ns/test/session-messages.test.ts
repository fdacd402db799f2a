import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESUME, resolveResumeOptions } from '../src/resume-options.js';
import {
  decodeAck,
  decodeSessionAccept,
  decodeSessionOpen,
  encodeAck,
  encodeSessionAccept,
  encodeSessionOpen,
  helloNonce,
  helloResumes,
  lostReason,
  NO_SESSION,
  resumeHello,
  resumeProof,
  SESSION_END_MESSAGE,
  SessionResult,
} from '../src/session-messages.js';

const id = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const protocolError = expect.objectContaining({ code: 'ERR_PROTOCOL' });

describe('session messages (PROTOCOL.md, "Resumable sessions")', () => {
  it('SESSION_OPEN, byte by byte', () => {
    const proof = Buffer.alloc(16, 0xaa);
    const message = encodeSessionOpen({ sessionId: id, proof, received: 0x1_0000_0002, maxMessages: 10_000, maxBytes: 8 * 1024 * 1024 });
    expect(message.toString('hex')).toBe(`05${id.toString('hex')}${'aa'.repeat(16)}0000000100000002${'00002710'}${'00800000'}`);
    expect(decodeSessionOpen(message)).toEqual({ sessionId: id, proof, received: 0x1_0000_0002, maxMessages: 10_000, maxBytes: 8 * 1024 * 1024 });
    const fresh = decodeSessionOpen(encodeSessionOpen({ sessionId: NO_SESSION, proof: NO_SESSION, received: 0, maxMessages: 1, maxBytes: 1 }));
    expect(fresh.sessionId.equals(NO_SESSION)).toBe(true);
    expect(() => decodeSessionOpen(message.subarray(0, 30))).toThrow(protocolError);
  });

  it('SESSION_ACCEPT, byte by byte, and its checks', () => {
    const secret = Buffer.alloc(32, 0x5c);
    const message = encodeSessionAccept({ result: SessionResult.RESUMED, sessionId: id, secret, received: 7, maxMessages: 4, maxBytes: 5 });
    expect(message.toString('hex')).toBe(`0601${id.toString('hex')}${'5c'.repeat(32)}0000000000000007${'00000004'}${'00000005'}`);
    expect(decodeSessionAccept(message)).toEqual({ result: 1, sessionId: id, secret, received: 7, maxMessages: 4, maxBytes: 5 });
    const bad = Buffer.from(message);
    bad[1] = 9;
    expect(() => decodeSessionAccept(bad)).toThrow(protocolError);
    const noId = encodeSessionAccept({ result: SessionResult.NEW, sessionId: NO_SESSION, secret, received: 0, maxMessages: 4, maxBytes: 5 });
    expect(() => decodeSessionAccept(noId)).toThrow(protocolError);
    const newWithReceived = encodeSessionAccept({ result: SessionResult.UNKNOWN, sessionId: id, secret, received: 3, maxMessages: 4, maxBytes: 5 });
    expect(() => decodeSessionAccept(newWithReceived)).toThrow(protocolError);
    expect(() => decodeSessionAccept(message.subarray(0, 10))).toThrow(protocolError);
  });

  it('HELLO with the resume flag, the server nonce, and the proof', () => {
    const hello = Buffer.from('01504e0100', 'hex');
    const nonce = Buffer.alloc(16, 3);
    expect(resumeHello(hello, undefined).toString('hex')).toBe('01504e0101');
    expect(resumeHello(hello, nonce).toString('hex')).toBe(`01504e0101${'03'.repeat(16)}`);
    expect(helloResumes(hello)).toBe(false);
    expect(helloResumes(resumeHello(hello, undefined))).toBe(true);
    expect(helloNonce(resumeHello(hello, undefined))).toBeUndefined();
    expect(helloNonce(resumeHello(hello, nonce))).toEqual(nonce);
    const secret = Buffer.alloc(32, 9);
    const expected = createHmac('sha256', secret).update('proto-ns/1 resume').update(nonce).update(id).digest().subarray(0, 16);
    expect(resumeProof(secret, nonce, id)).toEqual(expected);
    expect(resumeProof(secret, Buffer.alloc(16, 4), id).equals(expected)).toBe(false);
  });

  it('ACK and SESSION_END, byte by byte', () => {
    expect(encodeAck(10_000).toString('hex')).toBe('070000000000002710');
    expect(decodeAck(encodeAck(2 ** 53 - 1))).toBe(2 ** 53 - 1);
    expect(() => decodeAck(Buffer.from('07ffffffffffffffff', 'hex'))).toThrow(protocolError);
    expect(() => decodeAck(Buffer.from('0700', 'hex'))).toThrow(protocolError);
    expect(SESSION_END_MESSAGE.toString('hex')).toBe('08');
  });

  it('lost reasons', () => {
    expect(lostReason(SessionResult.EXPIRED)).toBe('expired');
    expect(lostReason(SessionResult.UNKNOWN)).toBe('unknown');
    expect(lostReason(SessionResult.INVALID)).toBe('invalid');
  });
});

describe('resolveResumeOptions', () => {
  it('applies the defaults', () => {
    expect(resolveResumeOptions(undefined)).toBeUndefined();
    expect(resolveResumeOptions(false)).toBeUndefined();
    expect(resolveResumeOptions(true)).toEqual({ ttlMs: 30_000, maxBytes: 8 * 1024 * 1024, maxMessages: 10_000 });
    expect(resolveResumeOptions({ ttlMs: 5 })).toEqual({ ...DEFAULT_RESUME, ttlMs: 5 });
  });

  it('refuses invalid values with ERR_INVALID_ARG', () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARG' });
    expect(() => resolveResumeOptions({ ttlMs: -1 })).toThrow(invalid);
    expect(() => resolveResumeOptions({ maxBytes: 0 })).toThrow(invalid);
    expect(() => resolveResumeOptions({ maxMessages: 1.5 })).toThrow(invalid);
    expect(() => resolveResumeOptions({ maxBytes: 2 ** 32 })).toThrow(invalid);
    expect(() => resolveResumeOptions('yes' as never)).toThrow(invalid);
  });
});
