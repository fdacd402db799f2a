/**
 * PROTOCOL.md's handshake and message rules as the wire sees them (issue 9, "The wire document"):
 * a hand-written hostile server checks what a client refuses, a raw client what a server refuses.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RpcClient, RpcServer } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { eventPayload, helloPayload, NS_EVENT_JSON } from '../../../testing/ns-wire.js';
import { frame32 } from '../../../testing/raw-socket.js';
import { deriveKey, ENCODING, proofFor, RawRpcLink, requestPayload, RPC, u32Payload } from '../../../testing/rpc-wire.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const PASSWORD = 'wire-secret';
const cleanup = new Cleanup();
failOnUncaught(cleanup);

/** `[version][flags][log2N][r][p][saltLen][salt][nonce]`, with the default cost unless overridden. */
function challenge(fields: { version?: number; flags?: number; log2N?: number; r?: number; p?: number; salt?: Buffer; trailing?: Buffer } = {}): Buffer {
  const salt = fields.salt ?? randomBytes(16);
  return Buffer.concat([
    Buffer.from([RPC.AUTH_CHALLENGE, fields.version ?? 1, fields.flags ?? 0, fields.log2N ?? 14, fields.r ?? 8, fields.p ?? 1, salt.length]),
    salt,
    randomBytes(32),
    fields.trailing ?? Buffer.alloc(0),
  ]);
}

/**
 * A hostile server: HELLO and `opening` on accept; once the client's proof arrives (anything past
 * its 9-byte hello), `afterProof`.
 */
async function hostileServer(opening: Buffer[], afterProof: Buffer[] = []): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let received = 0;
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (!answered && received > 9 && afterProof.length > 0) {
        answered = true;
        socket.write(Buffer.concat(afterProof.map((p) => frame32(p))));
      }
    });
    socket.write(Buffer.concat([frame32(helloPayload()), ...opening.map((p) => frame32(p))]));
  });
  cleanup.add(server, (s) => new Promise((resolve) => s.close(resolve)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function connectError(port: number, client?: RpcClient): Promise<{ code?: string; message: string }> {
  const c = client ?? new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, keepAlive: false });
  c.on('error', () => {});
  cleanup.add(c, (x) => x.destroy());
  return c.connect().then(
    () => ({ code: 'connected', message: '' }),
    (error: { code?: string; message: string }) => error,
  );
}

describe('a client checks every challenge field before deriving anything', () => {
  it.each([
    ['unknown flag bits (0x02)', { flags: 0x02 }, 'ERR_AUTH_FAILED', /unknown flags 0x02/],
    ['channel binding flag without TLS', { flags: 0x01 }, 'ERR_AUTH_FAILED', /channel binding/],
    ['another version', { version: 2 }, 'ERR_AUTH_FAILED', /version 2/],
    ['a cost over 64 MiB (N 2^17, r 8)', { log2N: 17 }, 'ERR_AUTH_FAILED', /128\*N\*r\*p/],
    ['a cost under N 2^10', { log2N: 9 }, 'ERR_AUTH_FAILED', /N >= 2\^10/],
    ['r = 0', { r: 0 }, 'ERR_PROTOCOL', /r and p/],
    ['p = 0', { p: 0 }, 'ERR_PROTOCOL', /r and p/],
    ['a 7-byte salt', { salt: randomBytes(7) }, 'ERR_PROTOCOL', /salt/],
    ['a trailing byte', { trailing: Buffer.from([0]) }, 'ERR_PROTOCOL', /malformed auth challenge/],
  ] as const)('refuses %s', async (_name, fields, code, message) => {
    const port = await hostileServer([challenge(fields)]);
    const error = await connectError(port);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('AUTH_FAIL is exactly one byte: a longer one is a protocol error; an unknown code is a refusal', async () => {
    expect((await connectError(await hostileServer([Buffer.from([RPC.AUTH_FAIL, 2, 0])]))).code).toBe('ERR_PROTOCOL');
    expect((await connectError(await hostileServer([Buffer.from([RPC.AUTH_FAIL, 9])]))).code).toBe('ERR_AUTH_FAILED');
    expect((await connectError(await hostileServer([Buffer.from([RPC.AUTH_FAIL, 2])]))).code).toBe('ERR_OVERLOADED');
  });

  it('processes nothing after AUTH_OK before checking the server proof: a request behind a forged AUTH_OK never runs', async () => {
    const forgedOk = Buffer.concat([Buffer.from([RPC.AUTH_OK]), randomBytes(32)]);
    const port = await hostileServer([challenge()], [forgedOk, requestPayload(1, ENCODING.NONE, 'steal')]);
    const client = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, keepAlive: false });
    let ran = 0;
    client.handle('steal', () => ++ran);
    const error = await connectError(port, client);
    expect(error.code).toBe('ERR_AUTH_FAILED');
    expect(error.message).toMatch(/could not prove/);
    expect(ran).toBe(0);
  });
});

describe('a server applies the fixed-size and malformed-answer rules', () => {
  async function openLink(): Promise<RawRpcLink> {
    const server = new RpcServer({ password: PASSWORD, keepAlive: false });
    server.on('error', () => {});
    cleanup.add(server, (s) => s.close({ timeoutMs: 100 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const link = await RawRpcLink.open(port);
    cleanup.add(link, (l) => l.destroy());
    expect(await link.authenticate(PASSWORD)).toBe(true);
    return link;
  }

  it('PING with trailing bytes is answered with the whole body echoed; CANCEL/PONG/PING under 4 bytes close the link', async () => {
    const link = await openLink();
    const ping = Buffer.concat([u32Payload(RPC.PING, 7), Buffer.from([1, 2, 3])]);
    link.send(ping);
    const pong = await link.next((f) => f[0] === RPC.PONG);
    expect(pong!.subarray(1)).toEqual(ping.subarray(1));
    link.send(Buffer.from([RPC.CANCEL, 0, 0, 1]));
    await link.outcome;
    expect(link.closed).toBe(true);
  });

  it.each([
    ['RESULT with bad JSON', Buffer.concat([u32Payload(RPC.RESULT, 777), Buffer.from([ENCODING.JSON]), Buffer.from('{')])],
    ['RESULT with an unknown encoding', Buffer.concat([u32Payload(RPC.RESULT, 777), Buffer.from([9])])],
    ['RESULT shorter than 5 bytes', u32Payload(RPC.RESULT, 777)],
    ['RESULT whose JSON is not valid UTF-8', Buffer.concat([u32Payload(RPC.RESULT, 777), Buffer.from([ENCODING.JSON]), Buffer.from([0x22, 0xff, 0x22])])],
    ['ERROR whose JSON is not valid UTF-8', Buffer.concat([u32Payload(RPC.ERROR, 778), Buffer.from([0]), Buffer.from('{"message":"'), Buffer.from([0xc3]), Buffer.from('"}')])],
    ['REQUEST whose JSON params are not valid UTF-8', requestPayload(5, ENCODING.JSON, 'x', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]))],
    ['ERROR without a message', Buffer.concat([u32Payload(RPC.ERROR, 778), Buffer.from([0]), Buffer.from('{"code":"X"}')])],
  ] as const)('%s (for an id nobody waits for) is a protocol error all the same', async (_name, payload) => {
    const link = await openLink();
    link.send(payload);
    await link.outcome;
    expect(link.closed).toBe(true);
  });
});

describe('between AUTH_OK and READY: rpc messages yes, user events no', () => {
  async function proven(keepAlive: false | { intervalMs: number; timeoutMs: number }): Promise<{ link: RawRpcLink; server: RpcServer }> {
    const server = new RpcServer({ password: PASSWORD, keepAlive });
    server.on('error', () => {});
    server.handle('echo', (params) => params);
    cleanup.add(server, (s) => s.close({ timeoutMs: 100 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const link = await RawRpcLink.open(port);
    cleanup.add(link, (l) => l.destroy());
    const key = await deriveKey(PASSWORD, link.challenge!);
    link.send(proofFor(key, link.challenge!).payload);
    expect((await link.next((f) => f[0] === RPC.AUTH_OK || f[0] === RPC.AUTH_FAIL))?.[0]).toBe(RPC.AUTH_OK);
    return { link, server };
  }

  it('the server PINGs right after AUTH_OK, and answers a REQUEST sent before the client READY', async () => {
    const { link } = await proven({ intervalMs: 60_000, timeoutMs: 30_000 });
    const okAt = link.frames.findIndex((f) => f[0] === RPC.AUTH_OK);
    const ping = await link.next((f) => f[0] === RPC.PING);
    expect(link.frames.indexOf(ping!)).toBeGreaterThan(okAt);
    link.send(requestPayload(3, ENCODING.JSON, 'echo', '"early"')); // no ns READY sent yet
    const result = await link.next((f) => f[0] === RPC.RESULT);
    expect(result!.readUInt32BE(1)).toBe(3);
    expect(result!.subarray(6).toString()).toBe('"early"');
  });

  it('a user event before the client READY closes the link', async () => {
    const { link } = await proven(false);
    link.send(eventPayload(NS_EVENT_JSON, 'too::early', '1'));
    await link.outcome;
    expect(link.closed).toBe(true);
  });
});
