import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../src/errors.js';
import {
  Encoding,
  encodingOf,
  methodPrefix,
  payloadPart,
  readMethod,
  readPayload,
  readU32,
  readWireError,
  requestHeader,
  requestPayloadOffset,
  responseHeader,
} from '../src/messages.js';

function join(parts: (string | Uint8Array | undefined)[]): Buffer {
  return Buffer.concat(parts.filter((p) => p !== undefined).map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

describe('request messages', () => {
  it('encode id, method and JSON params', () => {
    const params = { a: 1, b: 'ü' };
    const encoding = encodingOf(params);
    const prefix = methodPrefix('math::add');
    if (prefix === undefined) throw new Error('no prefix');
    const body = join([requestHeader(0xfffffffe, encoding, prefix), payloadPart(params, encoding)]);
    expect(readU32(body, 6)).toBe(0xfffffffe);
    expect(readMethod(body)).toBe('math::add');
    expect(readPayload(body, body[4]!, requestPayloadOffset(body))).toEqual(params);
  });

  it('caches method prefixes and refuses names over 255 bytes', () => {
    expect(methodPrefix('a::b')).toBe(methodPrefix('a::b'));
    expect(methodPrefix('é'.repeat(128))).toBeUndefined();
  });

  it('carries undefined and raw bytes without JSON', () => {
    expect(encodingOf(undefined)).toBe(Encoding.NONE);
    const bytes = Buffer.from([0, 1, 255]);
    expect(encodingOf(bytes)).toBe(Encoding.RAW);
    const body = join([responseHeader(1, Encoding.RAW), payloadPart(bytes, Encoding.RAW)]);
    const decoded = readPayload(body, body[4]!, 5);
    expect(decoded).toEqual(bytes);
    body[5] = 9; // a copy: later reuse of the frame does not change it
    expect(decoded).toEqual(bytes);
    expect(readPayload(responseHeader(1, Encoding.NONE), Encoding.NONE, 5)).toBeUndefined();
  });

  it('rejects malformed input with ProtocolError', () => {
    expect(() => readU32(Buffer.alloc(3), 4)).toThrow(ProtocolError);
    expect(() => readPayload(Buffer.from('xxxxx{bad'), Encoding.JSON, 5)).toThrow(ProtocolError);
    expect(() => readPayload(Buffer.alloc(6), 7, 5)).toThrow(ProtocolError);
    const truncated = Buffer.from([0, 0, 0, 1, 0, 10, 97]);
    expect(() => readMethod(truncated)).toThrow(ProtocolError);
  });

  it('decodes wire errors and refuses malformed ones', () => {
    const ok = join([responseHeader(3, 0), JSON.stringify({ message: 'm', code: 'C', data: [1] })]);
    expect(readWireError(ok)).toEqual({ message: 'm', code: 'C', data: [1] });
    expect(() => readWireError(join([responseHeader(3, 0), '{"code":1,"message":"m"}']))).toThrow(ProtocolError);
    expect(() => readWireError(join([responseHeader(3, 0), '42']))).toThrow(ProtocolError);
  });

  it('match the example bytes in PROTOCOL.md', () => {
    const params = { a: 1, b: 2 };
    const request = join([Buffer.from([0x48]), requestHeader(0, Encoding.JSON, methodPrefix('math::add')!), payloadPart(params, Encoding.JSON)]);
    expect(request.toString('hex')).toBe('48' + '00000000' + '00' + '09' + Buffer.from('math::add').toString('hex') + Buffer.from('{"a":1,"b":2}').toString('hex'));
    expect(request.length).toBe(0x1d);
    const result = join([Buffer.from([0x49]), responseHeader(0, Encoding.JSON), payloadPart(3, Encoding.JSON)]);
    expect(result.toString('hex')).toBe('49000000000033');
  });
});
