import * as net from 'node:net';

/** What a raw socket saw by the time it closed. */
export interface RawOutcome {
  /** Every byte received. */
  received: Buffer;
  /** Whether it closed on an error (typically ECONNRESET when the peer destroyed the connection). */
  hadError: boolean;
  /** The first error, if any. */
  error: Error | undefined;
}

/**
 * A plain TCP client for sending bytes by hand. It records what it receives and never throws on a
 * peer reset: `outcome` resolves once the socket closed.
 */
export interface RawClient {
  readonly socket: net.Socket;
  readonly outcome: Promise<RawOutcome>;
  /** Bytes received so far. */
  received(): Buffer;
}

/**
 * Connects a {@link RawClient} to a loopback port. `localAddress` picks the source address (any of
 * 127.0.0.0/8 works on Linux), so one test can play several remote addresses.
 */
export function rawConnect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawClient> {
  // No Nagle: a test's small writes must leave at once, not wait for a delayed ACK.
  const socket = net.connect({ host, port, noDelay: true, ...(localAddress === undefined ? {} : { localAddress }) });
  const chunks: Buffer[] = [];
  let error: Error | undefined;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', (err: Error) => {
    error ??= err;
  });
  const outcome = new Promise<RawOutcome>((resolve) => {
    socket.once('close', (hadError: boolean) => resolve({ received: Buffer.concat(chunks), hadError, error }));
  });
  return new Promise<RawClient>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.removeListener('error', onError);
      resolve({ socket, outcome, received: () => Buffer.concat(chunks) });
    });
  });
}

/** A uint32be length-prefixed frame (the default wire format of @proto/framing). */
export function frame32(...parts: readonly (Uint8Array | string | readonly number[])[]): Buffer {
  const payload = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p as Uint8Array))));
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/**
 * Splits a stream of uint32be frames received by a raw client into payloads; a trailing partial frame
 * is returned separately.
 */
export function parseFrames32(bytes: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let at = 0;
  while (bytes.length - at >= 4) {
    const length = bytes.readUInt32BE(at);
    if (at + 4 + length > bytes.length) break;
    frames.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { frames, rest: bytes.subarray(at) };
}
