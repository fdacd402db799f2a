import { createHmac } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RpcClient, RpcServer } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { frame32, parseFrames32 } from '../../../testing/raw-socket.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

// A session belongs to the identity that authenticated it (SPEC "Resumable sessions", SECURITY.md
// "Resumable sessions"): a second user who presents the first user's session id, even with a valid
// resume proof (an observer of a cleartext link sees the id and the secret), resumes nothing.

const cleanup = new Cleanup();
failOnUncaught(cleanup);

const PASSWORDS: Record<string, string> = { alice: 'alice-pw', bob: 'bob-pw' };
const SESSION_OPEN = 0x05;
const SESSION_ACCEPT = 0x06;
const RESULT_RESUMED = 1;
const RESULT_UNKNOWN = 2;

interface Stolen {
  readonly id: Buffer;
  readonly secret: Buffer;
}

interface Connection {
  /** The server's HELLO nonce on this connection. */
  nonce: Buffer | undefined;
  /** SESSION_ACCEPTs the server sent on this connection. */
  readonly accepts: { result: number; id: Buffer; secret: Buffer }[];
  /** Rewrite this connection's SESSION_OPEN to ask for this session. */
  hijack: Stolen | undefined;
  readonly down: net.Socket;
  readonly accepted: Promise<number>;
}

/**
 * A man in the middle that parses frames both ways: it reads each server HELLO's nonce and each
 * SESSION_ACCEPT (id, secret), and can rewrite a client's SESSION_OPEN to ask for a stolen session
 * with a proof valid for that connection's nonce (PROTOCOL.md: HMAC-SHA256(secret, label ‖ nonce ‖ id)).
 */
class Interceptor {
  readonly connections: Connection[] = [];
  /** Applied to the next connection accepted. */
  nextHijack: Stolen | undefined;
  readonly #server: net.Server;
  #waiters: ((connection: Connection) => void)[] = [];

  constructor(targetPort: number) {
    this.#server = net.createServer((down) => {
      let settle: (result: number) => void = () => {};
      const connection: Connection = {
        nonce: undefined,
        accepts: [],
        hijack: this.nextHijack,
        down,
        accepted: new Promise<number>((resolve) => (settle = resolve)),
      };
      this.nextHijack = undefined;
      this.connections.push(connection);
      for (const waiter of this.#waiters.splice(0)) waiter(connection);
      const up = net.connect(targetPort, '127.0.0.1');
      let fromClient = Buffer.alloc(0);
      let fromServer = Buffer.alloc(0);
      down.on('data', (chunk: Buffer) => {
        const { frames, rest } = parseFrames32(Buffer.concat([fromClient, chunk]));
        fromClient = Buffer.from(rest);
        for (const frame of frames) up.write(frame32(this.#rewrite(connection, frame)));
      });
      up.on('data', (chunk: Buffer) => {
        const { frames, rest } = parseFrames32(Buffer.concat([fromServer, chunk]));
        fromServer = Buffer.from(rest);
        for (const frame of frames) {
          if (frame[0] === 0x01 && frame.length >= 21) connection.nonce = Buffer.from(frame.subarray(5, 21));
          if (frame[0] === SESSION_ACCEPT) {
            connection.accepts.push({ result: frame[1]!, id: Buffer.from(frame.subarray(2, 18)), secret: Buffer.from(frame.subarray(18, 50)) });
            settle(frame[1]!);
          }
          down.write(frame32(frame));
        }
      });
      for (const [a, b] of [[down, up], [up, down]] as const) {
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
      }
    });
  }

  #rewrite(connection: Connection, frame: Buffer): Buffer {
    const stolen = connection.hijack;
    if (stolen === undefined || frame[0] !== SESSION_OPEN || connection.nonce === undefined) return frame;
    const open = Buffer.from(frame);
    stolen.id.copy(open, 1);
    const proof = createHmac('sha256', stolen.secret).update('proto-ns/1 resume').update(connection.nonce).update(stolen.id).digest();
    proof.copy(open, 17, 0, 16);
    return open;
  }

  /** Resolves with connection number `index` (0-based) once it is accepted. */
  connection(index: number): Promise<Connection> {
    const have = this.connections[index];
    if (have !== undefined) return Promise.resolve(have);
    return new Promise((resolve) => {
      const wait = (): void => {
        const connection = this.connections[index];
        if (connection !== undefined) resolve(connection);
        else this.#waiters.push(wait);
      };
      this.#waiters.push(wait);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    for (const connection of this.connections) connection.down.destroy();
    return new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The session (id and current secret) the server last gave on `connection`. */
  stolenFrom(connection: Connection): Stolen {
    const accept = connection.accepts.at(-1)!;
    return { id: accept.id, secret: accept.secret };
  }
}

function once<T = void>(emitter: { once(event: string, fn: (value: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

async function rig(): Promise<{ server: RpcServer; interceptor: Interceptor; port: number; release: () => void; runs: () => number }> {
  const server = new RpcServer({ authenticate: ({ username }) => PASSWORDS[username], keepAlive: false, resume: true });
  server.on('error', () => {});
  server.handle('whoami', (_params, ctx) => ({ user: ctx.peer.username, id: ctx.peer.id }));
  let runs = 0;
  let release: () => void = () => {};
  server.handle('hold', () => {
    runs++;
    return new Promise<string>((resolve) => (release = () => resolve('held')));
  });
  cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const interceptor = new Interceptor(port);
  cleanup.add(interceptor, (i) => i.close());
  return { server, interceptor, port: await interceptor.listen(), release: () => release(), runs: () => runs };
}

function client(port: number, username: string, password: string, reconnect = true): RpcClient {
  const c = new RpcClient({
    host: '127.0.0.1',
    port,
    username,
    password,
    keepAlive: false,
    resume: true,
    reconnect: reconnect ? { initialDelayMs: 1, maxDelayMs: 5 } : false,
  });
  c.on('error', () => {});
  cleanup.add(c, (x) => x.destroy());
  return c;
}

describe('a resumable rpc session belongs to the identity that authenticated it', () => {
  it("another user presenting alice's session id with a valid proof resumes nothing: a fresh session; alice's session is untouched and resumes", async () => {
    const { server, interceptor, port, release, runs } = await rig();
    const alice = client(port, 'alice', 'alice-pw');
    await alice.connect();
    const aliceLink = interceptor.connections[0]!;
    const aliceId = ((await alice.request('whoami')) as { id: string }).id;
    const held = alice.request('hold', undefined, { timeoutMs: 30_000 });
    await new Promise<void>((resolve) => {
      const check = (): void => (runs() === 1 ? resolve() : void setImmediate(check));
      check();
    });
    let serverResumes = 0;
    server.on('resumed', () => serverResumes++);

    interceptor.nextHijack = interceptor.stolenFrom(aliceLink);
    const bob = client(port, 'bob', 'bob-pw');
    await bob.connect();
    const bobLink = interceptor.connections[1]!;
    expect(await bobLink.accepted).toBe(RESULT_UNKNOWN);
    const bobIs = (await bob.request('whoami')) as { user: string; id: string };
    expect(bobIs.user).toBe('bob');
    expect(bobIs.id).not.toBe(aliceId);
    expect(serverResumes).toBe(0);
    expect(server.peers.size).toBe(2);
    expect(server.peers.get(aliceId)?.username).toBe('alice');

    // Alice's session is untouched: her link drops, she resumes it, and what was in flight is answered.
    const resumed = once(alice, 'resumed');
    const lost: unknown[] = [];
    alice.on('sessionLost', (info) => lost.push(info));
    aliceLink.down.resetAndDestroy();
    await resumed;
    expect(interceptor.connections.at(-1)!.accepts.at(-1)!.result).toBe(RESULT_RESUMED);
    release();
    expect(await held).toBe('held');
    expect(runs()).toBe(1);
    expect(await alice.request('whoami')).toEqual({ user: 'alice', id: aliceId });
    expect(lost).toEqual([]);
  });

  it('control: the same rewrite by a client that authenticates as alice does resume her session (the identity is what refuses bob)', async () => {
    const { interceptor, port } = await rig();
    const alice = client(port, 'alice', 'alice-pw');
    await alice.connect();
    interceptor.nextHijack = interceptor.stolenFrom(interceptor.connections[0]!);
    // Its own session code refuses a session it did not ask for, so its connect fails; the server's answer is what counts.
    const thief = client(port, 'alice', 'alice-pw', false);
    const attempt = thief.connect().catch((error: unknown) => error);
    expect(await (await interceptor.connection(1)).accepted).toBe(RESULT_RESUMED);
    await attempt;
  });
});
