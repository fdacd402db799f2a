/**
 * The @proto/rpc wire format and handshake (PROTOCOL.md, "RPC"), written independently of
 * @proto/rpc, for fuzz and security tests that talk to a real RpcServer byte by byte.
 */
import { isUtf8 } from 'node:buffer';
import { createHmac, randomBytes, scrypt } from 'node:crypto';
import { helloPayload, NS_HELLO, NS_READY } from './ns-wire.js';
import { frame32, type RawClient, rawConnect, type RawOutcome } from './raw-socket.js';

export const RPC = {
  AUTH_CHALLENGE: 0x40,
  AUTH_PROOF: 0x41,
  AUTH_OK: 0x42,
  AUTH_FAIL: 0x43,
  REQUEST: 0x48,
  RESULT: 0x49,
  ERROR: 0x4a,
  CANCEL: 0x4b,
  PING: 0x4c,
  PONG: 0x4d,
} as const;

export const ENCODING = { JSON: 0, RAW: 1, NONE: 2 } as const;

/** Stream message types (PROTOCOL.md, "Streams"). */
export const STREAM = {
  ITEM: 0x4e,
  CREDIT: 0x4f,
  END: 0x50,
  INPUT_ITEM: 0x51,
  INPUT_CREDIT: 0x52,
  INPUT_END: 0x53,
  /** Version 2: a JSON array of items in one frame (responder → opener). */
  ITEMS: 0x54,
  /** Version 2: a JSON array of input items in one frame (opener → responder). */
  INPUT_ITEMS: 0x55,
  /** Version 2: the handler stopped reading its input (responder → opener). */
  INPUT_STOP: 0x56,
} as const;

/** Options of {@link streamOpenPayload}. */
export interface StreamOpenOptions {
  credit?: number;
  flags?: number;
  version?: number;
  encoding?: number;
}

/** A stream open: REQUEST with an empty method and a raw payload `['S'][version][flags][credit u32][encoding][methodLen][method][params]`. */
export function streamOpenPayload(id: number, method: string, params: Buffer | string = '', options: StreamOpenOptions = {}): Buffer {
  const name = Buffer.from(method, 'utf8');
  const open = Buffer.alloc(9);
  open[0] = 0x53;
  open[1] = options.version ?? 1;
  open[2] = options.flags ?? 0;
  open.writeUInt32BE((options.credit ?? 16) >>> 0, 3);
  open[7] = options.encoding ?? (params === '' ? ENCODING.NONE : ENCODING.JSON);
  open[8] = name.length & 0xff;
  return requestPayload(id, ENCODING.RAW, '', Buffer.concat([open, name, typeof params === 'string' ? Buffer.from(params, 'utf8') : params]));
}

/** ITEM / INPUT_ITEM payload (type byte included). */
export function streamItemPayload(type: number, id: number, encoding: number, payload: Buffer | string = ''): Buffer {
  const head = Buffer.alloc(6);
  head[0] = type;
  head.writeUInt32BE(id >>> 0, 1);
  head[5] = encoding;
  return Buffer.concat([head, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload]);
}

/** ITEMS / INPUT_ITEMS payload (type byte included): `[id u32]` then the JSON array text as given. */
export function streamItemsPayload(type: number, id: number, text: Buffer | string): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(id >>> 0, 1);
  return Buffer.concat([head, typeof text === 'string' ? Buffer.from(text, 'utf8') : text]);
}

/** The items of an ITEM or ITEMS / INPUT_ITEM or INPUT_ITEMS frame (type byte included), JSON items only. */
export function streamFrameItems(frame: Buffer): unknown[] {
  if (frame[0] === STREAM.ITEMS || frame[0] === STREAM.INPUT_ITEMS) return JSON.parse(frame.subarray(5).toString()) as unknown[];
  return [JSON.parse(frame.subarray(6).toString())];
}

/** CREDIT / INPUT_CREDIT payload (type byte included). */
export function streamCreditPayload(type: number, id: number, grant: number): Buffer {
  const out = Buffer.alloc(9);
  out[0] = type;
  out.writeUInt32BE(id >>> 0, 1);
  out.writeUInt32BE(grant >>> 0, 5);
  return out;
}

/** A parsed AUTH_CHALLENGE. */
export interface Challenge {
  version: number;
  flags: number;
  log2N: number;
  r: number;
  p: number;
  salt: Buffer;
  serverNonce: Buffer;
}

export function parseChallenge(body: Buffer): Challenge {
  const saltLength = body[5]!;
  return {
    version: body[0]!,
    flags: body[1]!,
    log2N: body[2]!,
    r: body[3]!,
    p: body[4]!,
    salt: Buffer.from(body.subarray(6, 6 + saltLength)),
    serverNonce: Buffer.from(body.subarray(6 + saltLength, 6 + saltLength + 32)),
  };
}

const keys = new Map<string, Promise<Buffer>>();

/** scrypt(password, salt) with the challenge's cost, cached per password and salt. */
export function deriveKey(password: string, challenge: Challenge): Promise<Buffer> {
  const id = `${password}\0${challenge.salt.toString('hex')}\0${challenge.log2N}:${challenge.r}:${challenge.p}`;
  let key = keys.get(id);
  if (key === undefined) {
    const N = 2 ** challenge.log2N;
    key = new Promise<Buffer>((resolve, reject) =>
      scrypt(password, challenge.salt, 32, { N, r: challenge.r, p: challenge.p, maxmem: 256 * N * challenge.r + 2 ** 20 }, (err, out) =>
        err ? reject(err) : resolve(out),
      ),
    );
    keys.set(id, key);
  }
  return key;
}

function transcript(challenge: Challenge, clientNonce: Buffer, username: string): Buffer {
  const user = Buffer.from(username, 'utf8');
  return Buffer.concat([
    Buffer.from([challenge.version, challenge.flags, challenge.log2N, challenge.r, challenge.p, challenge.salt.length]),
    challenge.salt,
    challenge.serverNonce,
    clientNonce,
    Buffer.from([user.length]),
    user,
  ]);
}

/** The AUTH_PROOF payload (type byte included) for `key`, plus the server proof to expect back. */
export function proofFor(key: Buffer, challenge: Challenge, username = '', clientNonce = randomBytes(32)): { payload: Buffer; serverProof: Buffer } {
  const t = transcript(challenge, clientNonce, username);
  const proof = createHmac('sha256', key).update('proto-rpc/1 client proof').update(t).digest();
  const serverProof = createHmac('sha256', key).update('proto-rpc/1 server proof').update(t).digest();
  const user = Buffer.from(username, 'utf8');
  const payload = Buffer.concat([Buffer.from([RPC.AUTH_PROOF, 1]), clientNonce, proof, Buffer.from([user.length]), user]);
  return { payload, serverProof };
}

/** REQUEST payload (type byte included). */
export function requestPayload(id: number, encoding: number, method: string | Buffer, payload: Buffer | string = ''): Buffer {
  const name = typeof method === 'string' ? Buffer.from(method, 'utf8') : method;
  const header = Buffer.allocUnsafe(7);
  header[0] = RPC.REQUEST;
  header.writeUInt32BE(id >>> 0, 1);
  header[5] = encoding;
  header[6] = name.length & 0xff;
  return Buffer.concat([header, name, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload]);
}

/** A payload of `type` with a u32 body (CANCEL, PING, PONG). */
export function u32Payload(type: number, value: number): Buffer {
  const out = Buffer.allocUnsafe(5);
  out[0] = type;
  out.writeUInt32BE(value >>> 0, 1);
  return out;
}

/**
 * A raw connection speaking the rpc wire by hand: frames in, frames out, and the handshake done (or
 * broken) on purpose.
 */
export class RawRpcLink {
  readonly raw: RawClient;
  /** Every frame payload received, in order. */
  readonly frames: Buffer[] = [];
  challenge: Challenge | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #waiters: { test: (frame: Buffer) => boolean; resolve: (frame: Buffer | undefined) => void }[] = [];
  #closed = false;

  private constructor(raw: RawClient) {
    this.raw = raw;
    raw.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    void raw.outcome.then(() => {
      this.#closed = true;
      for (const waiter of this.#waiters.splice(0)) waiter.resolve(undefined);
    });
  }

  /**
   * Connects (from `localAddress`, default 127.0.0.1) and exchanges ns hellos; resolves once the
   * server's AUTH_CHALLENGE arrived, or, when it refuses at once (AUTH_FAIL), with `challenge` unset.
   */
  static async open(port: number, localAddress?: string): Promise<RawRpcLink> {
    const link = new RawRpcLink(await rawConnect(port, '127.0.0.1', localAddress));
    link.send(helloPayload());
    const first = await link.next((f) => f[0] === RPC.AUTH_CHALLENGE || f[0] === RPC.AUTH_FAIL);
    if (first === undefined) throw new Error('the server closed before sending its challenge');
    if (first[0] === RPC.AUTH_CHALLENGE) link.challenge = parseChallenge(first.subarray(1));
    return link;
  }

  /** The code of an AUTH_FAIL received so far (1 refused, 2 too many authenticating), if any. */
  get authFailCode(): number | undefined {
    return this.frames.find((f) => f[0] === RPC.AUTH_FAIL)?.[1];
  }

  /** Sends a proof made with the wrong password; resolves with the AUTH_FAIL code, or undefined on close. */
  async sendWrongProof(): Promise<number | undefined> {
    const key = await deriveKey('definitely-not-the-password', this.challenge!);
    this.send(proofFor(key, this.challenge!).payload);
    const answer = await this.next((f) => f[0] === RPC.AUTH_FAIL || f[0] === RPC.AUTH_OK);
    return answer?.[0] === RPC.AUTH_FAIL ? answer[1] : undefined;
  }

  /** Resolves once the connection closed. */
  get outcome(): Promise<RawOutcome> {
    return this.raw.outcome;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one frame with this payload. */
  send(payload: Uint8Array): void {
    if (!this.raw.socket.destroyed) this.raw.socket.write(frame32(payload));
  }

  /** Sends several frames in one write. */
  sendAll(payloads: readonly Uint8Array[]): void {
    if (!this.raw.socket.destroyed) this.raw.socket.write(Buffer.concat(payloads.map((p) => frame32(p))));
  }

  /** The next received frame (already received ones included) passing `test`, or undefined once closed. */
  next(test: (frame: Buffer) => boolean = () => true): Promise<Buffer | undefined> {
    const found = this.frames.find(test);
    if (found !== undefined) return Promise.resolve(found);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  /**
   * Completes the handshake with `password`: AUTH_PROOF, then AUTH_OK (whose server proof is
   * checked), then ns READY. Resolves true when authenticated, false on AUTH_FAIL or close.
   */
  async authenticate(password: string, username = ''): Promise<boolean> {
    const key = await deriveKey(password, this.challenge!);
    const { payload, serverProof } = proofFor(key, this.challenge!, username);
    this.send(payload);
    const answer = await this.next((f) => f[0] === RPC.AUTH_OK || f[0] === RPC.AUTH_FAIL);
    if (answer === undefined || answer[0] !== RPC.AUTH_OK) return false;
    if (!answer.subarray(1).equals(serverProof)) throw new Error('the server proof does not match');
    this.send(Buffer.from([NS_READY]));
    return true;
  }

  destroy(): void {
    this.raw.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 4) {
      const length = this.#buffer.readUInt32BE(0);
      if (this.#buffer.length < 4 + length) break;
      const frame = Buffer.from(this.#buffer.subarray(4, 4 + length));
      this.#buffer = this.#buffer.subarray(4 + length);
      this.frames.push(frame);
      for (let i = 0; i < this.#waiters.length; i++) {
        const waiter = this.#waiters[i]!;
        if (waiter.test(frame)) {
          this.#waiters.splice(i--, 1);
          waiter.resolve(frame);
        }
      }
    }
  }
}

/** What an authenticated server does with one extension message from the client. */
export type RpcVerdict =
  | { kind: 'close' }
  | { kind: 'ignore' }
  | { kind: 'pong'; body: Buffer }
  | { kind: 'request'; id: number; method: string; encoding: number; params: unknown };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether a REQUEST body (after the type byte) is a stream open that a server with no stream of
 * that name must close the link for (a malformed version-1 open). Other opens are answered ERROR
 * kind 1 like any request for an unknown method.
 */
function malformedStreamOpen(body: Buffer, decodes: (encoding: number, bytes: Buffer) => boolean): boolean {
  if (!(body.length > 6 && body[5] === 0 && body[4] === ENCODING.RAW && body[6] === 0x53)) return false;
  if (body.length < 8) return true;
  if (body[7] !== 1 && body[7] !== 2) return false; // another version: refused as an unknown method
  if (body.length < 6 + 9) return true;
  if ((body[8]! & ~0x01) !== 0) return true;
  const credit = body.readUInt32BE(9);
  if (credit === 0 || credit > 0x7fffffff) return true;
  const methodLength = body[14]!;
  if (methodLength === 0 || body.length < 15 + methodLength) return true;
  try {
    strictUtf8.decode(body.subarray(15, 15 + methodLength));
  } catch {
    return true;
  }
  return !decodes(body[13]!, body.subarray(15 + methodLength));
}

/**
 * The model of an open rpc link, on a server that serves no streams and opened none, receiving
 * `payload` (type byte in 0x40..0x7f).
 */
export function rpcVerdict(payload: Buffer): RpcVerdict {
  const type = payload[0]!;
  const body = payload.subarray(1);
  const jsonOk = (text: string): { ok: boolean; value?: unknown } => {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false };
    }
  };
  const decodePayload = (encoding: number, bytes: Buffer): { ok: boolean; value?: unknown } => {
    if (encoding === ENCODING.JSON) {
      if (bytes.length === 0) return { ok: true, value: undefined };
      return isUtf8(bytes) ? jsonOk(bytes.toString('utf8')) : { ok: false };
    }
    if (encoding === ENCODING.NONE) return { ok: true, value: undefined };
    if (encoding === ENCODING.RAW) return { ok: true, value: Buffer.from(bytes) };
    return { ok: false };
  };
  switch (type) {
    case RPC.REQUEST: {
      if (body.length < 6) return { kind: 'close' };
      if (malformedStreamOpen(body, (encoding, bytes) => decodePayload(encoding, bytes).ok)) return { kind: 'close' };
      const methodLength = body[5]!;
      if (body.length < 6 + methodLength) return { kind: 'close' };
      const decoded = decodePayload(body[4]!, body.subarray(6 + methodLength));
      if (!decoded.ok) return { kind: 'close' };
      return { kind: 'request', id: body.readUInt32BE(0), method: body.toString('utf8', 6, 6 + methodLength), encoding: body[4]!, params: decoded.value };
    }
    case RPC.RESULT:
      if (body.length < 5) return { kind: 'close' };
      return decodePayload(body[4]!, body.subarray(5)).ok ? { kind: 'ignore' } : { kind: 'close' };
    case RPC.ERROR: {
      if (body.length < 5 || !isUtf8(body.subarray(5))) return { kind: 'close' };
      const parsed = jsonOk(body.toString('utf8', 5));
      const wire = parsed.value as { message?: unknown; code?: unknown } | null;
      if (!parsed.ok || typeof wire !== 'object' || wire === null || typeof wire.message !== 'string') return { kind: 'close' };
      if (wire.code !== undefined && typeof wire.code !== 'string') return { kind: 'close' };
      return { kind: 'ignore' };
    }
    case RPC.CANCEL:
    case RPC.PONG:
      return body.length < 4 ? { kind: 'close' } : { kind: 'ignore' };
    case RPC.PING:
      return body.length < 4 ? { kind: 'close' } : { kind: 'pong', body: Buffer.from(body) };
    // Stream messages for no stream: the ones that may cross the end of a stream on the wire are
    // ignored when well-formed; the others name a stream this side never opened.
    case STREAM.CREDIT: {
      if (body.length !== 8) return { kind: 'close' };
      const grant = body.readUInt32BE(4);
      return grant === 0 || grant > 0x7fffffff ? { kind: 'close' } : { kind: 'ignore' };
    }
    case STREAM.INPUT_ITEM:
      return body.length >= 5 && decodePayload(body[4]!, body.subarray(5)).ok ? { kind: 'ignore' } : { kind: 'close' };
    case STREAM.INPUT_ITEMS: {
      if (body.length < 6) return { kind: 'close' };
      const decoded = decodePayload(ENCODING.JSON, body.subarray(4));
      return decoded.ok && Array.isArray(decoded.value) && decoded.value.length > 0 ? { kind: 'ignore' } : { kind: 'close' };
    }
    case STREAM.INPUT_END:
      return body.length === 4 ? { kind: 'ignore' } : { kind: 'close' };
    default:
      return { kind: 'close' };
  }
}

export { NS_HELLO, NS_READY };
