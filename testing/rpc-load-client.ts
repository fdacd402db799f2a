/**
 * A lean rpc client for load tests, speaking the wire protocol by hand (testing/rpc-wire.ts): it
 * authenticates with a key derived once for all clients (a real RpcClient derives its own scrypt key,
 * ~55 ms of CPU each), answers keepalive pings, and correlates JSON requests by id. Thousands of them
 * cost the test process little, so the server is what gets measured.
 */
import * as net from 'node:net';
import { helloPayload, NS_READY } from './ns-wire.js';
import { frame32 } from './raw-socket.js';
import { type Challenge, deriveKey, ENCODING, parseChallenge, proofFor, RPC, requestPayload, u32Payload } from './rpc-wire.js';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class LoadClient {
  readonly socket: net.Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #challenge: ((challenge: Challenge) => void) | undefined;
  #authAnswer: ((frame: Buffer) => void) | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#closed = true;
        for (const pending of this.#pending.values()) pending.reject(new Error('connection closed'));
        this.#pending.clear();
        resolve();
      }),
    );
  }

  /** Connects and authenticates; rejects on AUTH_FAIL (e.g. the server's maxPendingAuth) or a close. */
  static async connect(port: number, password: string): Promise<LoadClient> {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    const client = new LoadClient(socket);
    const challenge = new Promise<Challenge>((resolve) => (client.#challenge = resolve));
    const failed = client.closed.then(() => {
      throw new Error('closed during authentication');
    });
    failed.catch(() => {});
    socket.write(frame32(helloPayload()));
    const c = await Promise.race([challenge, failed]);
    const { payload, serverProof } = proofFor(await deriveKey(password, c), c);
    const answer = new Promise<Buffer>((resolve) => (client.#authAnswer = resolve));
    socket.write(frame32(payload));
    const frame = await Promise.race([answer, failed]);
    if (frame[0] !== RPC.AUTH_OK || !frame.subarray(1).equals(serverProof)) {
      socket.destroy();
      throw new Error(frame[0] === RPC.AUTH_FAIL ? `AUTH_FAIL ${String(frame[1])}` : 'bad server proof');
    }
    socket.write(frame32([NS_READY]));
    return client;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  /** Sends a JSON request and resolves with the decoded result (rejects on an ERROR answer). */
  request(method: string, params: unknown): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('connection closed'));
    const id = this.#nextId++ >>> 0;
    this.socket.write(frame32(requestPayload(id, ENCODING.JSON, method, JSON.stringify(params))));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  /** Ends the connection and resolves once it closed. */
  async end(): Promise<void> {
    this.socket.end();
    await this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let at = 0;
    while (this.#buffer.length - at >= 4) {
      const length = this.#buffer.readUInt32BE(at);
      if (this.#buffer.length - at < 4 + length) break;
      this.#onFrame(this.#buffer.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    this.#buffer = at === this.#buffer.length ? Buffer.alloc(0) : Buffer.from(this.#buffer.subarray(at));
  }

  #onFrame(frame: Buffer): void {
    switch (frame[0]) {
      case RPC.AUTH_CHALLENGE:
        this.#challenge?.(parseChallenge(frame.subarray(1)));
        return;
      case RPC.AUTH_OK:
      case RPC.AUTH_FAIL:
        this.#authAnswer?.(Buffer.from(frame));
        return;
      case RPC.PING:
        this.socket.write(frame32(u32Payload(RPC.PONG, frame.readUInt32BE(1))));
        return;
      case RPC.RESULT: {
        const id = frame.readUInt32BE(1);
        const pending = this.#pending.get(id);
        if (pending === undefined) return;
        this.#pending.delete(id);
        const body = frame.subarray(6);
        pending.resolve(frame[5] === ENCODING.NONE || body.length === 0 ? undefined : JSON.parse(body.toString('utf8')));
        return;
      }
      case RPC.ERROR: {
        const id = frame.readUInt32BE(1);
        const pending = this.#pending.get(id);
        if (pending === undefined) return;
        this.#pending.delete(id);
        pending.reject(Object.assign(new Error('remote error'), { wire: frame.toString('utf8', 6) }));
        return;
      }
      default:
      // ns hello/ready and user events: nothing to do
    }
  }
}
