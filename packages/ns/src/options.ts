import type { ConnectOptions } from '@proto/framing';
import { integerOption } from '@proto/framing/internal';
import type { ReconnectOptions } from './backoff.js';
import type { OfflineQueueOptions } from './offline-queue.js';
import type { ResumeOptions } from './resume-options.js';

/** Transport and framing settings a client passes through to `@proto/framing` (TLS, timeouts, limits, watermarks). */
export type NsTransportOptions = Omit<ConnectOptions, 'host' | 'port' | 'path' | 'signal'>;

/**
 * Options of a client {@link NsSocket} (`NsSocketOptions` is `NsClientOptions<NsExtension>`): where to
 * connect (may also be given to `connect()`), transport and framing settings, reconnecting and
 * offline queueing, the extension.
 * @typeParam Extension - the extension hooks' type.
 */
export interface NsClientOptions<Extension> extends NsTransportOptions {
  /**
   * Host to connect to (with `port`).
   * @default 'localhost'
   */
  host?: string | undefined;
  /** TCP port to connect to. */
  port?: number | undefined;
  /** Path of a Unix socket to connect to (instead of `host`/`port`). */
  path?: string | undefined;
  /**
   * Bound on one attempt, in milliseconds: dialing, the TLS handshake and the server's ns hello. A
   * server that accepts but says nothing fails the attempt with `ERR_CONNECT_TIMEOUT`. `0` waits as
   * long as the OS does (and for the hello, forever). The extension's own handshake is not included.
   * @default 10000
   */
  connectTimeoutMs?: number | undefined;
  /**
   * Reconnect when the link fails or is lost (also retries the first connect): `true` for the defaults
   * or backoff settings. `end()`/`destroy()` stop it.
   * @default false
   */
  reconnect?: boolean | ReconnectOptions | undefined;
  /**
   * Queue sends made while there is no open link and flush them in order once connected: `true` for
   * the default bounds. Without it, such a send throws `ERR_NOT_CONNECTED`.
   * @default false
   */
  offlineQueue?: boolean | OfflineQueueOptions | undefined;
  /**
   * Resumable sessions: `true` for the defaults or bounds. With the server enabling it too, every
   * message is delivered exactly once and in order across link drops while the session lives; sends
   * while the link is down go into the window. Only useful with `reconnect`. The server must enable
   * it too, else the link works as without.
   * @default false
   */
  resume?: boolean | ResumeOptions | undefined;
  /** Hooks of the layer above (e.g. `@proto/rpc`); see {@link NsExtension}. */
  extension?: Extension | undefined;
}

/** Options of `NsSocket.end()` / `close()`. */
export interface NsEndOptions {
  /**
   * Milliseconds to wait for the link to flush and the peer to close its side; then it is
   * destroyed. `Infinity` waits for ever.
   * @default 10000
   */
  timeoutMs?: number | undefined;
}

/** How long `end()` waits for the peer to close before destroying the link. */
export const DEFAULT_END_TIMEOUT_MS = 10_000;

/** @throws InvalidArgError unless `timeoutMs` is an integer >= 0 or Infinity. */
export function endTimeoutMs(options: NsEndOptions | undefined): number {
  const value = options?.timeoutMs;
  return value === Number.POSITIVE_INFINITY ? value : integerOption('timeoutMs', value, DEFAULT_END_TIMEOUT_MS);
}
