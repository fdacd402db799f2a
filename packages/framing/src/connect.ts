import * as net from 'node:net';
import * as tls from 'node:tls';
import { resolveAddress, type SocketAddress } from './address.js';
import { AbortedError, ConnectTimeoutError, InvalidArgError } from './errors.js';
import { FramedSocket } from './framed-socket.js';
import { resolveFrameOptions } from './frame-options.js';
import { integerOption } from './integer-option.js';
import { type FramedSocketOptions, resolveSocketLimits } from './socket-options.js';
import { SocketReader } from './socket-reader.js';
import { resolveTlsClientOptions, type TlsClientOptions } from './tls-options.js';

/** Default of {@link ConnectOptions.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Transport settings of {@link connect}, besides the address and the {@link FramedSocketOptions}. */
export interface ConnectTransportOptions {
  /**
   * Connect over TLS: `true` for the defaults (Node's root CAs, verification on), or settings.
   * @default false
   */
  tls?: boolean | TlsClientOptions | undefined;
  /**
   * Milliseconds to wait for the connection (and the TLS handshake) before failing with
   * `ERR_CONNECT_TIMEOUT`. 0 waits as long as the OS does.
   * @default 10000
   */
  connectTimeoutMs?: number | undefined;
  /** Aborting it cancels the attempt with `ERR_ABORTED`. It has no effect once connected. */
  signal?: AbortSignal | undefined;
  /**
   * Disable Nagle's algorithm on TCP, so small frames leave at once (the socket already coalesces
   * the frames of one tick).
   * @default true
   */
  noDelay?: boolean | undefined;
}

/** Options of {@link connect}: an address, transport settings, and the socket's own options. */
export type ConnectOptions = SocketAddress & ConnectTransportOptions & FramedSocketOptions;

function noop(): void {}

/**
 * Connects over TCP, TLS or a Unix socket and resolves with a {@link FramedSocket} once the
 * connection (and the TLS handshake) is up.
 *
 * Listen for `error` on the returned socket, as on a `net.Socket`: an unhandled `error` event throws.
 *
 * @throws InvalidArgError (rejects) for invalid options.
 * @throws ConnectTimeoutError (rejects) after `connectTimeoutMs`.
 * @throws AbortedError (rejects) when `signal` aborts first.
 * @throws Error (rejects) with Node's code (`ECONNREFUSED`, `ENOENT`, a TLS verification code...)
 *   when the connection fails.
 */
export async function connect(options: ConnectOptions): Promise<FramedSocket> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgError('connect() needs an options object');
  const address = resolveAddress(options, false);
  resolveFrameOptions(options);
  resolveSocketLimits(options);
  const timeoutMs = integerOption('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
  const { signal } = options;
  if (signal?.aborted) throw new AbortedError('connect() was aborted', { cause: signal.reason });

  const where = address.kind === 'unix' ? { path: address.path } : { host: address.host ?? 'localhost', port: address.port };
  const label = address.kind === 'unix' ? address.path : `${where.host ?? ''}:${String(address.port)}`;
  const secure = options.tls !== undefined && options.tls !== false;
  // TCP and Unix sockets read large frames in place (TLS sockets have no `onread`).
  const reader = secure ? undefined : new SocketReader();
  const stream: net.Socket = secure
    ? tls.connect({
        ...resolveTlsClientOptions(options.tls as true | TlsClientOptions),
        ...where,
        // Honoured by tls.connect though missing from its type: we end our side ourselves (see FramedSocket).
        ...({ allowHalfOpen: true } as object),
      })
    : net.connect({ ...where, allowHalfOpen: true, onread: reader!.onread });
  reader?.bind(stream);

  let onAbort: (() => void) | undefined;
  let onReady: (() => void) | undefined;
  let onError: ((error: Error) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onError = reject;
      stream.once(secure ? 'secureConnect' : 'connect', onReady);
      stream.once('error', onError);
      if (signal !== undefined) {
        onAbort = () => reject(new AbortedError(`connecting to ${label} was aborted`, { cause: signal.reason }));
        signal.addEventListener('abort', onAbort, { once: true });
      }
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          reject(new ConnectTimeoutError(`connecting to ${label} took longer than ${String(timeoutMs)} ms`));
        }, timeoutMs);
      }
    });
  } catch (error) {
    // A late error of the abandoned attempt must not go uncaught.
    stream.on('error', noop);
    stream.destroy();
    throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    if (onReady !== undefined) stream.removeListener(secure ? 'secureConnect' : 'connect', onReady);
    if (onError !== undefined) stream.removeListener('error', onError);
  }

  if (address.kind === 'tcp') stream.setNoDelay(options.noDelay ?? true);
  return new FramedSocket(stream, options);
}
