// body-send.ts reuses one parts array and one result header for every send: a send made from
// inside another (a listener framing calls during `send()`) must get its own, and nothing may be
// kept after the send.
import type { NsSocket } from '@proto/ns';
import { describe, expect, it } from 'vitest';
import { answerHeader, requestHeaderFrom, sendBody } from '../src/body-send.js';
import { requestTemplate } from '../src/messages.js';

type Body = Buffer | string | Uint8Array | readonly (Buffer | string | Uint8Array)[];

/** A socket that copies every body as framing would, and runs `during` inside the first send. */
function recordingSocket(during: () => void): { socket: NsSocket; sent: Buffer[] } {
  const sent: Buffer[] = [];
  let first = true;
  const copy = (body: Body): Buffer =>
    Buffer.concat((Array.isArray(body) ? body : [body]).map((part: Buffer | string | Uint8Array) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
  const socket = {
    sendExtension(_type: number, body: Body): boolean {
      const before = copy(body);
      if (first) {
        first = false;
        during();
      }
      // The body the caller handed over is unchanged by the nested send.
      expect(copy(body).equals(before)).toBe(true);
      sent.push(before);
      return true;
    },
  };
  return { socket: socket as Pick<NsSocket, 'sendExtension'> as NsSocket, sent };
}

describe('sendBody', () => {
  it('a result sent from inside another send gets its own header and parts', () => {
    const { socket, sent } = recordingSocket(() => {
      sendBody(socket, 0x49, answerHeader(7, 0), '"inner"');
    });
    sendBody(socket, 0x49, answerHeader(1, 0), '"outer"');
    expect(sent.map((b) => [b.readUInt32BE(0), b.subarray(5).toString()])).toEqual([
      [7, '"inner"'],
      [1, '"outer"'],
    ]);
  });

  it('a request sent from inside another send of the same method keeps both ids', () => {
    const template = requestTemplate('math::add')!;
    const { socket, sent } = recordingSocket(() => {
      sendBody(socket, 0x48, requestHeaderFrom(template, 2, 0), '{"a":2}');
    });
    sendBody(socket, 0x48, requestHeaderFrom(template, 1, 0), '{"a":1}');
    expect(sent.map((b) => [b.readUInt32BE(0), b.subarray(6, 6 + b[5]!).toString(), b.subarray(6 + b[5]!).toString()])).toEqual([
      [2, 'math::add', '{"a":2}'],
      [1, 'math::add', '{"a":1}'],
    ]);
  });
});
