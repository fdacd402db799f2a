import type { SocketAddress } from './address.js';
import type { ProtoError } from './errors.js';
import type { FramedSocket } from './framed-socket.js';
import type { FramedSocketOptions } from './socket-options.js';
import type { TlsServerOptions } from './tls-options.js';

/** Default of {@link TlsServerOptions.handshakeTimeoutMs}. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Default of {@link ListenSettings.retryDelayMs}. */
export const DEFAULT_RETRY_DELAY_MS = 1000;

/** Options of {@link createServer}: TLS, TCP settings, and the options of every accepted socket. */
export interface ServerOptions extends FramedSocketOptions {
  /** Serve TLS with these settings (plain TCP or Unix socket without). */
  tls?: TlsServerOptions | undefined;
  /**
   * Disable Nagle's algorithm on accepted TCP connections.
   * @default true
   */
  noDelay?: boolean | undefined;
}

/** How {@link FramedServer.listen} behaves, besides the address. */
export interface ListenSettings {
  /** Maximum length of the queue of pending connections. @default Node's default (511) */
  backlog?: number | undefined;
  /**
   * How many times to try again when the address is in use (`EADDRINUSE`), for example while an
   * old process is still shutting down. Each retry emits `listenRetry`.
   * @default 0
   */
  retries?: number | undefined;
  /**
   * Milliseconds to wait before each retry.
   * @default 1000
   */
  retryDelayMs?: number | undefined;
}

/** Options of {@link FramedServer.listen}: `{ host, port }` (port 0 picks a free one) or `{ path }`. */
export type ListenOptions = SocketAddress & ListenSettings;

/** Where a server listens. For a Unix socket: `{ host: '', port: 0, family: 'unix', path }`. */
export interface ServerAddress {
  /** The bound IP address, `''` for a Unix socket. */
  host: string;
  /** The bound port (the one picked for port 0), `0` for a Unix socket. */
  port: number;
  /** `'IPv4'`, `'IPv6'` or `'unix'`. */
  family: string;
  /** The socket path for a Unix socket, else `undefined`. */
  path: string | undefined;
}

/** Payload of the `listenRetry` event. */
export interface ListenRetryEvent {
  /** 1 for the first retry. */
  attempt: number;
  /** Milliseconds until this retry. */
  delayMs: number;
  /** Why the previous attempt failed (code `EADDRINUSE`). */
  error: Error;
}

/** Options of {@link FramedServer.close}. */
export interface CloseOptions {
  /**
   * Milliseconds to wait (from the call, `drain` included) for connections to flush and close
   * before destroying the rest.
   * @default no limit
   */
  timeoutMs?: number | undefined;
  /**
   * Settles when the layer above has finished its work on the open connections (rpc: requests in
   * flight). The server stops accepting at the call, then awaits it before ending the connections.
   * @default none: connections are ended at once
   */
  drain?: Promise<unknown> | undefined;
}

/** Events of a {@link FramedServer}. */
export interface FramedServerEvents {
  /** A client connected (after the TLS handshake and `isClientAllowed`). */
  connection: [socket: FramedSocket];
  /**
   * One client failed: bad input, a stream error, a TLS handshake error (socket `undefined`) or a
   * refused certificate (`ERR_CLIENT_REJECTED`). That connection is closed; the server goes on.
   */
  clientError: [error: ProtoError | NodeJS.ErrnoException, socket: FramedSocket | undefined];
  /** `listen()` found the address in use and will try again after `delayMs`. */
  listenRetry: [info: ListenRetryEvent];
  /** The server is listening. */
  listening: [];
  /** `close()` finished: no listener, no connection left. */
  close: [];
  /** An error of the listening server itself (not of one client), such as a failed `accept`. */
  error: [error: Error];
}

