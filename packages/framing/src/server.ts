import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { type ResolvedAddress, resolveAddress, type SocketAddress } from './address.js';
import { AbortedError, ClientRejectedError, InvalidArgError, NotConnectedError, type ProtoError } from './errors.js';
import { FramedSocket } from './framed-socket.js';
import { resolveFrameOptions } from './frame-options.js';
import { type FramedSocketOptions, resolveSocketLimits } from './socket-options.js';
import { resolveTlsServerOptions, type TlsServerOptions } from './tls-options.js';
import { prepareUnixPath, removeUnixPath, socketInode } from './unix-socket.js';

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
   * Milliseconds to wait for connections to flush and close before destroying the rest.
   * @default no limit
   */
  timeoutMs?: number | undefined;
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

type State = 'idle' | 'listening' | 'closing' | 'closed';

const kServer = Symbol('framedServer');
const kOnClientError = Symbol('onClientError');
const kOnClientClose = Symbol('onClientClose');
const kOnRawClose = Symbol('onRawClose');

interface Owned {
  [kServer]: FramedServer;
}

// Per-connection handlers are module-level functions that find their server through a property:
// no closure and no once-wrapper per connection (idle connections are many; each byte counts).
function clientOnError(this: FramedSocket & Owned, error: ProtoError | NodeJS.ErrnoException): void {
  this[kServer][kOnClientError](error, this);
}
function clientOnClose(this: FramedSocket & Owned): void {
  this[kServer][kOnClientClose](this);
}
function rawOnClose(this: net.Socket & Owned): void {
  this[kServer][kOnRawClose](this);
}

function noop(): void {}

function integer(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgError(`${name} must be an integer >= 0, got ${String(value)}`);
  }
  return value;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * A TCP, TLS or Unix socket server handing out {@link FramedSocket}s. Made by {@link createServer}.
 *
 * Every accepted socket gets an `error` listener that re-emits as `clientError`, so one bad peer
 * never crashes the process or fails the server.
 */
export class FramedServer extends EventEmitter<FramedServerEvents> {
  readonly #server: net.Server;
  readonly #socketOptions: ServerOptions;
  readonly #isClientAllowed: TlsServerOptions['isClientAllowed'];
  readonly #noDelay: boolean;
  readonly #connections = new Set<FramedSocket>();
  /** Raw sockets of TLS handshakes still in progress (not connections yet). */
  readonly #handshakes = new Set<net.Socket>();
  #state: State = 'idle';
  #listening: Promise<unknown> | undefined;
  #retry: { timer: NodeJS.Timeout; reject: (error: Error) => void } | undefined;
  #closing: Promise<void> | undefined;
  #unix: { path: string; ino: number | undefined } | undefined;

  /** Use {@link createServer}. @throws InvalidArgError for invalid options. */
  constructor(options: ServerOptions, onConnection: ((socket: FramedSocket) => void) | undefined) {
    super();
    resolveFrameOptions(options);
    resolveSocketLimits(options);
    this.#socketOptions = options;
    this.#noDelay = options.noDelay ?? true;
    this.#isClientAllowed = options.tls?.isClientAllowed;
    if (this.#isClientAllowed !== undefined && typeof this.#isClientAllowed !== 'function') {
      throw new InvalidArgError('tls.isClientAllowed must be a function');
    }
    if (options.tls !== undefined) {
      const server = tls.createServer({
        ...resolveTlsServerOptions(options.tls),
        allowHalfOpen: true,
        // A peer that stalls or hangs up mid-handshake is only noticed by this timeout.
        handshakeTimeout: integer('tls.handshakeTimeoutMs', options.tls.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS),
      });
      server.on('secureConnection', (socket: tls.TLSSocket) => this.#accept(socket));
      server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
        // With allowHalfOpen a peer that hangs up mid-handshake would otherwise stay half-open.
        socket.destroy();
        this.emit('clientError', error, undefined);
      });
      this.#server = server;
    } else {
      this.#server = net.createServer({ allowHalfOpen: true });
    }
    this.#server.on('connection', (socket: net.Socket) => this.#track(socket, options.tls === undefined));
    this.#server.on('error', (error: Error) => this.#onServerError(error));
    if (onConnection !== undefined) {
      if (typeof onConnection !== 'function') throw new InvalidArgError('onConnection must be a function');
      this.on('connection', onConnection);
    }
  }

  /** Open connections; a connection leaves the set when it closes. */
  get connections(): ReadonlySet<FramedSocket> {
    return this.#connections;
  }

  /** Whether the server is listening. */
  get listening(): boolean {
    return this.#state === 'listening';
  }

  /**
   * Starts listening. For a Unix socket path that already exists, a stale socket file (nobody
   * answers) is removed first; a live one is left alone and the call fails with `EADDRINUSE`.
   *
   * @returns the bound address (with the port picked for port 0).
   * @throws Error (rejects) with `code` `EADDRINUSE` once `retries` are used up, or Node's error.
   * @throws InvalidArgError (rejects) for invalid options or when already listening.
   * @throws AbortedError (rejects) when `close()` is called before it succeeds.
   */
  async listen(options: ListenOptions): Promise<ServerAddress> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgError('listen() needs an options object');
    if (this.#state !== 'idle' || this.#listening !== undefined) {
      throw new InvalidArgError(`listen() called on a server that is ${this.#listening ? 'starting' : this.#state}`);
    }
    const address = resolveAddress(options, true);
    const retries = integer('retries', options.retries, 0);
    const delayMs = integer('retryDelayMs', options.retryDelayMs, DEFAULT_RETRY_DELAY_MS);
    const backlog = options.backlog === undefined ? undefined : integer('backlog', options.backlog, 0);
    const attempts = this.#listenWithRetries(address, backlog, retries, delayMs);
    this.#listening = attempts;
    try {
      await attempts;
    } finally {
      this.#listening = undefined;
    }
    if (this.#closing !== undefined) throw new AbortedError('the server was closed while starting to listen');
    // Accept from now on; a client may connect before the inode lookup below finishes.
    this.#state = 'listening';
    const bound = this.address();
    if (address.kind === 'unix') {
      const unix = { path: address.path, ino: undefined as number | undefined };
      this.#unix = unix;
      unix.ino = await socketInode(address.path);
    }
    this.emit('listening');
    return bound;
  }

  /**
   * Closes gracefully: stops accepting, ends every connection (so frames already sent are
   * flushed), waits for them to close, then resolves. Connections still open after `timeoutMs` are
   * destroyed. Calling it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void> {
    if (this.#closing === undefined) {
      const timeoutMs = options?.timeoutMs === undefined ? undefined : integer('timeoutMs', options.timeoutMs, 0);
      this.#closing = this.#close(timeoutMs);
    }
    return this.#closing;
  }

  /**
   * Where the server listens.
   *
   * @throws NotConnectedError when it is not listening.
   */
  address(): ServerAddress {
    const bound = this.#state === 'listening' ? this.#server.address() : null;
    if (bound === null) throw new NotConnectedError('the server is not listening');
    if (typeof bound === 'string') return { host: '', port: 0, family: 'unix', path: bound };
    return { host: bound.address, port: bound.port, family: bound.family, path: undefined };
  }

  /** Closes the server, for `await using server = createServer(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #listenWithRetries(
    address: ResolvedAddress,
    backlog: number | undefined,
    retries: number,
    delayMs: number,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (address.kind === 'unix') await prepareUnixPath(address.path);
        if (this.#closing !== undefined) throw new AbortedError('the server was closed while starting to listen');
        await this.#listenOnce(address, backlog);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' || attempt > retries || this.#closing !== undefined) throw error;
        this.emit('listenRetry', { attempt, delayMs, error: toError(error) });
        await this.#delay(delayMs);
      }
    }
  }

  #listenOnce(address: ResolvedAddress, backlog: number | undefined): Promise<void> {
    const server = this.#server;
    return new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        server.removeListener('listening', onListening);
        reject(error);
      };
      const onListening = (): void => {
        server.removeListener('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      const where = address.kind === 'unix' ? { path: address.path } : { host: address.host, port: address.port };
      server.listen(backlog === undefined ? where : { ...where, backlog });
    });
  }

  #delay(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#retry = undefined;
        resolve();
      }, ms);
      this.#retry = { timer, reject };
    });
  }

  #onServerError(error: Error): void {
    // While listen() is in progress its own listener reports the error.
    if (this.#listening !== undefined) return;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error);
  }

  #track(socket: net.Socket, plain: boolean): void {
    if (this.#noDelay) socket.setNoDelay(true);
    if (plain) {
      this.#accept(socket);
      return;
    }
    // TLS handshakes in progress are not connections yet; keep them to drop them on close().
    (socket as net.Socket & Owned)[kServer] = this;
    this.#handshakes.add(socket);
    socket.on('close', rawOnClose);
  }

  /** @internal */
  [kOnClientError](error: ProtoError | NodeJS.ErrnoException, socket: FramedSocket): void {
    this.emit('clientError', error, socket);
  }

  /** @internal */
  [kOnClientClose](socket: FramedSocket): void {
    this.#connections.delete(socket);
  }

  /** @internal */
  [kOnRawClose](socket: net.Socket): void {
    this.#handshakes.delete(socket);
  }

  #accept(stream: net.Socket): void {
    if (this.#state !== 'listening') {
      stream.on('error', noop);
      stream.destroy();
      return;
    }
    // For TLS, Node keeps the raw socket under the TLSSocket as `_parent` (not in its typings).
    const raw = (stream as net.Socket & { _parent?: net.Socket })._parent;
    if (raw !== undefined) this.#handshakes.delete(raw);
    const framed = new FramedSocket(stream, this.#socketOptions) as FramedSocket & Owned;
    framed[kServer] = this;
    framed.on('error', clientOnError);
    if (this.#isClientAllowed !== undefined) {
      const refusal = this.#checkClient(stream as tls.TLSSocket);
      if (refusal !== undefined) {
        framed.destroy(refusal);
        return;
      }
    }
    this.#connections.add(framed);
    framed.on('close', clientOnClose);
    try {
      this.emit('connection', framed);
    } catch (error) {
      // A throwing onConnection costs that connection, not the process.
      framed.destroy(toError(error));
    }
  }

  #checkClient(socket: tls.TLSSocket): ClientRejectedError | undefined {
    const certificate = socket.getPeerCertificate();
    if (certificate === null || Object.keys(certificate).length === 0) {
      return new ClientRejectedError('client presented no certificate');
    }
    try {
      if (this.#isClientAllowed!(certificate) === true) return undefined;
      return new ClientRejectedError(`client certificate refused by isClientAllowed (subject CN=${String(certificate.subject?.CN)})`);
    } catch (cause) {
      return new ClientRejectedError('isClientAllowed threw', { cause });
    }
  }

  async #close(timeoutMs: number | undefined): Promise<void> {
    this.#state = 'closing';
    if (this.#retry !== undefined) {
      clearTimeout(this.#retry.timer);
      this.#retry.reject(new AbortedError('the server was closed while waiting to retry listen()'));
      this.#retry = undefined;
    }
    if (this.#listening !== undefined) await this.#listening.then(noop, noop);
    const server = this.#server;
    const stopped = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
    const ended = [...this.#connections].map((socket) => socket.end());
    // A handshake still in progress has nothing to flush: it is not a connection yet.
    for (const socket of this.#handshakes) socket.destroy();
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        for (const socket of this.#connections) socket.destroy();
        for (const socket of this.#handshakes) socket.destroy();
      }, timeoutMs);
    }
    try {
      await Promise.all(ended);
      await stopped;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    const unix = this.#unix;
    this.#unix = undefined;
    if (unix?.ino !== undefined) await removeUnixPath(unix.path, unix.ino).catch(noop);
    this.#state = 'closed';
    this.emit('close');
  }
}

/**
 * Creates a {@link FramedServer}; call `listen()` on it. `onConnection` is a `connection` listener.
 *
 * @throws InvalidArgError for invalid options (TLS files are read here).
 */
export function createServer(onConnection?: (socket: FramedSocket) => void): FramedServer;
export function createServer(options: ServerOptions, onConnection?: (socket: FramedSocket) => void): FramedServer;
export function createServer(
  optionsOrListener?: ServerOptions | ((socket: FramedSocket) => void),
  onConnection?: (socket: FramedSocket) => void,
): FramedServer {
  if (typeof optionsOrListener === 'function') return new FramedServer({}, optionsOrListener);
  return new FramedServer(optionsOrListener ?? {}, onConnection);
}
