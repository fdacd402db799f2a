import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParams } from '../../../testing/fuzz.js';
import { decodeMessage, encodeMessage, type OutgoingMessage } from '../src/envelope.js';

const json = fc.jsonValue();
const name = fc.string({ minLength: 1, maxLength: 20 });
const event = fc.oneof(name, fc.array(name, { minLength: 1, maxLength: 4 }));
const value = fc.oneof(json, fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)), fc.constant(undefined));
const message: fc.Arbitrary<OutgoingMessage> = fc.oneof(
  fc.constant({ t: 'hb' as const }),
  fc.record({ t: fc.constant('hb' as const), r: fc.constant(1 as const), c: fc.nat() }),
  fc.record({ t: fc.constant('pj' as const), peer: name }),
  fc.record({ t: fc.constant('pl' as const), peer: name }),
  fc.record({ t: fc.constant('b' as const), e: event, v: value }),
  fc.record({ t: fc.constant('s' as const), to: name, e: event, v: value }),
  fc.record({ t: fc.constant('q' as const), id: fc.integer({ min: 1, max: 2 ** 40 }), to: name, m: name, ms: fc.nat(), v: value }),
  fc.record({ t: fc.constant('c' as const), id: fc.integer({ min: 1, max: 2 ** 40 }) }),
  fc.record({ t: fc.constant('r' as const), id: fc.integer({ min: 1, max: 2 ** 40 }), ok: fc.constant(true), v: value, err: fc.constant(undefined) }),
);

describe('cluster envelope', () => {
  it('decodes what it encodes, binary values as raw bytes', () => {
    fc.assert(
      fc.property(message, (m) => {
        const decoded = decodeMessage('p', encodeMessage('p', 'node', 'inc', m));
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) return;
        const got = new Map(Object.entries(decoded.message));
        expect(got.get('n')).toBe('node');
        expect(got.get('k')).toBe('inc');
        for (const [key, sent] of Object.entries(m)) {
          if (key === 'v') continue;
          expect(got.get(key)).toEqual(sent);
        }
        const sent = 'v' in m ? m.v : undefined;
        const received = got.get('v');
        if (sent instanceof Uint8Array) {
          expect(Buffer.isBuffer(received)).toBe(true);
          expect(Buffer.compare(received as Buffer, sent)).toBe(0);
        } else if (sent === undefined) {
          expect(received).toBeUndefined();
        } else {
          // What JSON carries: -0 becomes 0, like everywhere else in rpc.
          expect(received).toEqual(JSON.parse(JSON.stringify(sent)));
        }
      }),
      fuzzParams(300),
    );
  });

  it('never throws on arbitrary bytes, and calls another prefix foreign', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        const decoded = decodeMessage('p', buffer);
        if (decoded.ok) expect(typeof decoded.message.t).toBe('string');
        // A valid header prefixed with the magic, truncated anywhere, never decodes wrongly either.
        const good = encodeMessage('p', 'n', 'k', { t: 'b', e: 'x', v: Buffer.from(bytes) });
        const cut = good.subarray(0, bytes.length % good.length);
        expect(() => decodeMessage('p', cut)).not.toThrow();
      }),
      fuzzParams(500),
    );
    expect(decodeMessage('other', encodeMessage('p', 'n', 'k', { t: 'hb' }))).toEqual({ ok: false, reason: 'foreign' });
    expect(decodeMessage('p', Buffer.from('PC\u0001\u0000\u0000\u0000\u0002[]'))).toEqual({ ok: false, reason: 'malformed' });
    // Peer announcements and heartbeat fields are checked like the rest.
    const header = (fields: string): Buffer => {
      const json = Buffer.from(`{${fields},"p":"p","n":"n","k":"k"}`);
      return Buffer.concat([Buffer.from([0x50, 0x43, 1, 0, 0, 0, json.length]), json]);
    };
    for (const bad of ['"t":"pj"', '"t":"pl","peer":""', '"t":"hb","r":2', '"t":"hb","c":-1', '"t":"hb","c":1.5']) {
      expect(decodeMessage('p', header(bad))).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(decodeMessage('p', header('"t":"pj","peer":"n:k:1"')).ok).toBe(true);
  });
});
