import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { resolveAddress } from './address.js';
import { type ClientAllowed, checkClientCertificate } from './client-cert.js';
import { Connections } from './connections.js';
import { emitErrorIfListened } from './emit-error.js';
import { AbortedError, InvalidArgError, NotConnectedError } from './errors.js';
import { FramedSocket } from './framed-socket.js';
import { resolveFrameOptions } from './frame-options.js';
import { integerOption } from './integer-option.js';
import { listenWithRetries } from './listen.js';
import {
  type CloseOptions,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_RETRY_DELAY_MS,
  type FramedServerEvents,
  type ListenOptions,
  type ServerAddress,
  type ServerOptions,
} from './server-options.js';
import { shareSocketLimits } from './socket-options.js';
import { adoptAccepted } from './socket-reader.js';
import { toError } from './to-error.js';
import { resolveTlsServerOptions } from './tls-options.js';
import { removeUnixPath, socketInode } from './unix-socket.js';

type State = 'idle' | 'listening' | 'closing' | 'closed';

function noop(): void {}

/**
 * A TCP, TLS or Unix socket server handing out {@link FramedSocket}s. Made by {@link createServer}.
 *
 * Every accepted socket gets an `error` listener that re-emits as `clientError`, so one bad peer
 * never crashes the process or fails the server.
 */
export class FramedServer extends EventEmitter<FramedServerEvents> {
  readonly #server: net.Server;
  readonly #socketOptions: ServerOptions;
  readonly #isClientAllowed: ClientAllowed | undefined;
  readonly #noDelay: boolean;
  readonly #connections = new Connections(this);
  #state: State = 'idle';
  #listening: Promise<unknown> | undefined;
  /** Aborted by `close()`: stops a `listen()` in progress, retry waits included. */
  readonly #closeSignal = new AbortController();
  #closing: Promise<void> | undefined;
  #unix: { path: string; ino: number | undefined } | undefined;

  /** Use {@link createServer}. @throws InvalidArgError for invalid options. */
  constructor(options: ServerOptions, onConnection: ((socket: FramedSocket) => void) | undefined) {
    super();
    resolveFrameOptions(options);
    shareSocketLimits(options);
    this.#socketOptions = options;
    this.#noDelay = options.noDelay ?? true;
    const isClientAllowed: unknown = options.tls?.isClientAllowed;
    if (isClientAllowed !== undefined && typeof isClientAllowed !== 'function') {
      throw new InvalidArgError('tls.isClientAllowed must be a function');
    }
    this.#isClientAllowed = options.tls?.isClientAllowed;
    if (options.tls !== undefined) {
      const server = tls.createServer({
        ...resolveTlsServerOptions(options.tls),
        // Half-open only once secure (below): a peer that hangs up mid-handshake (say it refused our
        // certificate) must fail the handshake at once, not sit half-open until the timeout.
        allowHalfOpen: false,
        // A peer that stalls mid-handshake is only noticed by this timeout.
        handshakeTimeout: integerOption('tls.handshakeTimeoutMs', options.tls.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS),
      });
      server.on('secureConnection', (socket: tls.TLSSocket) => {
        socket.allowHalfOpen = true;
        this.#accept(socket);
      });
      server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
        socket.destroy();
        this.emit('clientError', error, undefined);
      });
      this.#server = server;
    } else {
      // Accepted sockets start paused: #track makes them again with an `onread` reader (socket-reader.ts).
      this.#server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
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
    return this.#connections.open;
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
    const attempts = listenWithRetries(this.#server, {
      address,
      retries: integerOption('retries', options.retries, 0),
      delayMs: integerOption('retryDelayMs', options.retryDelayMs, DEFAULT_RETRY_DELAY_MS),
      backlog: options.backlog === undefined ? undefined : integerOption('backlog', options.backlog, 0),
      signal: this.#closeSignal.signal,
      onRetry: (event) => this.emit('listenRetry', event),
    });
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
      const timeoutMs = options?.timeoutMs === undefined ? undefined : integerOption('timeoutMs', options.timeoutMs, 0);
      this.#closing = this.#close(timeoutMs, options?.drain);
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

  #onServerError(error: Error): void {
    // While listen() is in progress its own listener reports the error.
    if (this.#listening !== undefined) return;
    if (!emitErrorIfListened(this, error)) process.emitWarning(error);
  }

  #track(accepted: net.Socket, plain: boolean): void {
    const socket = plain ? adoptAccepted(accepted, true) : accepted;
    if (this.#noDelay) socket.setNoDelay(true);
    // TLS handshakes in progress are not connections yet; keep them to drop them on close().
    if (plain) this.#accept(socket);
    else this.#connections.handshakeStarted(socket);
  }

  #accept(stream: net.Socket): void {
    if (this.#state !== 'listening') {
      stream.on('error', noop);
      stream.destroy();
      return;
    }
    // For TLS, Node keeps the raw socket under the TLSSocket as `_parent` (not in its typings).
    const raw = (stream as net.Socket & { _parent?: net.Socket })._parent;
    if (raw !== undefined) this.#connections.handshakeDone(raw);
    const framed = new FramedSocket(stream, this.#socketOptions);
    this.#connections.watch(framed);
    if (this.#isClientAllowed !== undefined) {
      const refusal = checkClientCertificate(stream as tls.TLSSocket, this.#isClientAllowed);
      if (refusal !== undefined) {
        framed.destroy(refusal);
        return;
      }
    }
    this.#connections.adopt(framed);
    try {
      this.emit('connection', framed);
    } catch (error) {
      // A throwing onConnection costs that connection, not the process.
      framed.destroy(toError(error));
    }
  }

  async #close(timeoutMs: number | undefined, drain: Promise<unknown> | undefined): Promise<void> {
    this.#state = 'closing';
    this.#closeSignal.abort();
    const connections = this.#connections;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => connections.destroyAll(), timeoutMs);
    if (this.#listening !== undefined) await this.#listening.then(noop, noop);
    const server = this.#server;
    const stopped = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
    // Not accepting any more; the layer above finishes its work on the open connections first.
    if (drain !== undefined) await drain.then(noop, noop);
    const ended = connections.endAll();
    // A handshake still in progress has nothing to flush: it is not a connection yet.
    connections.dropHandshakes();
    try {
      await ended;
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
