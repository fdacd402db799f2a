import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeEvent, receivedName, sameName } from '../src/event-cache.js';
import {
  binaryBody,
  checkHello,
  eventBodyOffset,
  EXTENSION_TYPE_MAX,
  EXTENSION_TYPE_MIN,
  HELLO_MESSAGE,
  jsonBody,
  MessageType,
  parseJsonBody,
  READY_MESSAGE,
} from '../src/message.js';

describe('message codec', () => {
  it('hello is [0x01][P][N][version][flags]', () => {
    expect([...HELLO_MESSAGE]).toEqual([0x01, 0x50, 0x4e, 1, 0]);
    expect([...READY_MESSAGE]).toEqual([0x04]);
    expect(() => checkHello(HELLO_MESSAGE)).not.toThrow();
  });

  it('hello with another version, bad magic or too short is ERR_PROTOCOL', () => {
    expect(() => checkHello(Buffer.from([0x01, 0x50, 0x4e, 2, 0]))).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(() => checkHello(Buffer.from([0x01, 0x51, 0x4e, 1, 0]))).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(() => checkHello(Buffer.from([0x01, 0x50, 0x4e, 1]))).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
  });

  it('hello ignores unknown flags and trailing bytes (room for later versions)', () => {
    expect(() => checkHello(Buffer.from([0x01, 0x50, 0x4e, 1, 0xff, 9, 9]))).not.toThrow();
  });

  it('encodes a JSON event as [0x02][nameLen u16be][name] plus the JSON text', () => {
    const [prefix, body] = encodeEvent(['chat', 'message'], { text: 'hé' });
    expect(prefix[0]).toBe(MessageType.EVENT_JSON);
    expect(prefix.readUInt16BE(1)).toBe('chat::message'.length);
    expect(prefix.toString('utf8', 3)).toBe('chat::message');
    expect(body).toBe('{"text":"hé"}');
  });

  it('encodes bytes as [0x03][nameLen][name] plus the raw bytes, no JSON, no base64', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const [prefix, body] = encodeEvent('file::chunk', bytes);
    expect(prefix[0]).toBe(MessageType.EVENT_BINARY);
    expect(body).toBe(bytes);
  });

  it('string and array forms share one cached prefix', () => {
    expect(encodeEvent('a::b', 1)[0]).toBe(encodeEvent(['a', 'b'], 2)[0]);
    expect(encodeEvent(['a', 'b'], 1)[0]).toBe(encodeEvent(['a', 'b'], 2)[0]);
  });

  it('cached array events still refuse bad arrays that join to a known name', () => {
    encodeEvent(['a', 'b'], 1);
    expect(() => encodeEvent(['a::b'], 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => encodeEvent(['a', 'b', ''], 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => encodeEvent(['a'], 1)).not.toThrow();
  });

  it('sameName compares the name bytes of a message', () => {
    const message = Buffer.from('xxchat::msgyy');
    const name = receivedName(message, 2, 11);
    expect(sameName(message, 2, 11, name)).toBe(true);
    expect(sameName(Buffer.from('xxchat::msXyy'), 2, 11, name)).toBe(false);
    expect(sameName(message, 2, 10, name)).toBe(false);
  });

  it('counts the name length in UTF-8 bytes', () => {
    const [prefix] = encodeEvent('é::ü', null);
    expect(prefix.readUInt16BE(1)).toBe(Buffer.byteLength('é::ü'));
  });

  it('undefined data has an empty body, which decodes as undefined', () => {
    expect(jsonBody(undefined)).toBe('');
    const message = Buffer.concat([encodeEvent('x', undefined)[0]]);
    expect(parseJsonBody(message, eventBodyOffset(message))).toBeUndefined();
  });

  it('refuses data JSON cannot serialize with ERR_INVALID_ARG', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => jsonBody(cyclic)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => jsonBody(10n)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });

  it('bad JSON is ERR_PROTOCOL with the SyntaxError as cause', () => {
    const message = Buffer.concat([encodeEvent('x', undefined)[0], Buffer.from('{nope')]);
    try {
      parseJsonBody(message, eventBodyOffset(message));
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_PROTOCOL' });
      expect((error as Error).cause).toBeInstanceOf(SyntaxError);
    }
  });

  it('a name length past the end, or zero, is ERR_PROTOCOL', () => {
    expect(() => eventBodyOffset(Buffer.from([0x02, 0, 9, 0x61]))).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(() => eventBodyOffset(Buffer.from([0x02, 0, 0]))).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(() => eventBodyOffset(Buffer.from([0x02, 0]))).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(eventBodyOffset(Buffer.from([0x02, 0, 1, 0x61]))).toBe(4);
  });

  it('received names are validated: wildcards or empty segments are ERR_PROTOCOL', () => {
    const received = (name: string) => receivedName(Buffer.from(`..${name}..`), 2, 2 + Buffer.byteLength(name));
    expect(received('a::b').segments).toEqual(['a', 'b']);
    expect(received('a::b').emitType).toEqual(['data', 'a', 'b']);
    expect(received('a::b').eventString).toBe('data::a::b');
    expect(received('a::b')).toBe(received('a::b'));
    expect(() => received('a::*')).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(() => received('a::')).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(() => received('x'.repeat(2000))).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
  });

  it('binary bodies: Buffer as is, other views and ArrayBuffer as byte views, objects are not binary', () => {
    const buffer = Buffer.from([1]);
    expect(binaryBody(buffer)).toBe(buffer);
    expect([...binaryBody(new Uint16Array([0x0102]))!]).toHaveLength(2);
    expect([...binaryBody(new Uint8Array([7, 8]).buffer)!]).toEqual([7, 8]);
    expect(binaryBody({ a: 1 })).toBeUndefined();
    expect(binaryBody([1, 2])).toBeUndefined();
  });

  it('reserves 0x40..0x7f for the extension layer', () => {
    expect(EXTENSION_TYPE_MIN).toBe(0x40);
    expect(EXTENSION_TYPE_MAX).toBe(0x7f);
    for (const type of Object.values(MessageType)) expect(type).toBeLessThan(0x40);
  });
});

describe('PROTOCOL.md examples', () => {
  const wire = (event: readonly string[], data: unknown): string => {
    const [prefix, body] = encodeEvent(event, data);
    const payload = Buffer.concat([prefix, typeof body === 'string' ? Buffer.from(body) : Buffer.from(body)]);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(payload.length);
    return Buffer.concat([header, payload]).toString('hex').match(/../g)!.join(' ');
  };

  it('match what the encoder produces', () => {
    const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8').replace(/ +/g, ' ');
    expect(protocol).toContain(wire(['chat', 'message'], { text: 'hi' }));
    expect(protocol).toContain(wire(['file', 'chunk'], Buffer.from([1, 2, 3])));
    expect(protocol).toContain('00 00 00 05 01 50 4e 01 00');
  });
});
