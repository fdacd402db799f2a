import type { ProtoError } from './errors.js';
import { EventEmitter } from 'node:events';
import {
  BufferOverflowError,
  ClientRejectedError,
  ConnectionClosedError,
  type CloseOptions,
  createServer as createFramedServer,
  type FramedServer,
  type FramedSocket,
  InvalidArgError,
  type ListenOptions,
  NotConnectedError,
  type ListenRetryEvent,
  type ServerAddress,
  type ServerOptions,
} from '@proto/framing';
import { encodeEvent } from './event-cache.js';
import type { DefaultEvents, EventKey, EventMap, SendArgs } from './event-types.js';
import { linkOf } from './link.js';
import type { AcceptingServer } from './accepting-server.js';
import type { HelloDeadline } from './link-types.js';
import { type ResolvedResumeOptions, type ResumeOptions, resolveResumeOptions } from './resume-options.js';
import { SessionStore } from './session-store.js';
import { type NsExtension, NsSocket } from './ns-socket.js';
import { coreOf } from './socket-core.js';
import { integerOption, toError } from '@proto/framing/internal';

/** Options of {@link createServer}: framing's server options (TLS, limits, watermarks, idle timeout) and the extension. */
export interface NsServerOptions extends ServerOptions {
  /**
   * Creates the extension hooks of each accepted socket; called at accept time, before any byte is read.
   * @default none
   */
  extension?: ((socket: NsSocket<EventMap>) => NsExtension) | undefined;
  /**
   * Resumable sessions (clients must enable `resume` too): `true` for the defaults, or `ttlMs` (how
   * long a session without a link is kept) and the window bounds. A socket whose link drops stays
   * open and in `sockets` until its client comes back or `ttlMs` passes.
   * @default false
   */
  resume?: boolean | ResumeOptions | undefined;
  /**
   * Connections this server holds at once. One more is destroyed as soon as it is accepted,
   * reported as `clientError` (`ERR_CLIENT_REJECTED`, no socket).
   * @default Infinity
   */
  maxConnections?: number | undefined;
  /**
   * Budget for the outbound bytes buffered across all open sockets, checked after every send from
   * a server socket (`send`, `sendExtension`, `broadcast()`): past it, the sockets holding the most
   * are destroyed with `ERR_BUFFER_OVERFLOW` (reported as `clientError`) until the total fits. Each
   * socket is also bounded by `maxBufferedBytes`.
   * @default Infinity
   */
  maxTotalBufferedBytes?: number | undefined;
  /**
   * How long, in milliseconds, an accepted connection may take to send its ns hello. One that says
   * nothing is closed with `ERR_CONNECT_TIMEOUT` (reported as `clientError`); it never was a
   * `connection`. `0` waits for ever.
   * @default 10000
   */
  helloTimeoutMs?: number | undefined;
}

/** The default of {@link NsServerOptions.helloTimeoutMs}. */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;

function limitOption(name: string, value: unknown): number {
  return value === Number.POSITIVE_INFINITY ? value : integerOption(name, value, Number.POSITIVE_INFINITY);
}

/** Events of an {@link NsServer}. */
export interface NsServerEvents<Events extends EventMap = DefaultEvents> {
  /** A client's link is open (after the extension's `onLinkOpening` resolved). */
  connection: [socket: NsSocket<Events>];
  /**
   * One client failed (bad input as `ERR_PROTOCOL`, a network error, a TLS handshake error with no
   * socket, a refused certificate, an exception of a listener). That connection is closed; the server
   * and its other connections go on.
   */
  clientError: [error: ProtoError | NodeJS.ErrnoException, socket: NsSocket<Events> | undefined];
  /** `listen()` found the address in use and will retry. */
  listenRetry: [info: ListenRetryEvent];
  /** The server is listening. */
  listening: [];
  /** `close()` finished. */
  close: [];
  /** An error of the listening server itself (not of one client). */
  error: [error: ProtoError | NodeJS.ErrnoException];
}

/**
 * A server of {@link NsSocket}s over TCP, TLS or a Unix socket. Made by {@link createServer}.
 * Accepted sockets never reconnect; they appear in {@link NsServer.sockets} once open.
 */
export class NsServer<Events extends EventMap = DefaultEvents> extends EventEmitter<NsServerEvents<Events>> implements AcceptingServer {
  readonly #framing: FramedServer;
  readonly #sockets = new Set<NsSocket<Events>>();
  readonly #extensionFactory: ((socket: NsSocket<EventMap>) => NsExtension) | undefined;
  readonly #maxConnections: number;
  readonly #maxTotalBufferedBytes: number;
  readonly #resume: ResolvedResumeOptions | undefined;
  /**
   * Running total of the sockets' buffered bytes as last counted (each socket's share in its core's
   * `countedBytes`, updated when it sends): bytes drained since are still counted, so a total past
   * the budget is recounted exactly before anyone is destroyed. No scan per send.
   */
  #counted = 0;
  /** The deadline for a client's hello, shared by every accepted link. */
  readonly #hello: HelloDeadline | undefined;
  /** @internal The sessions of this server's sockets (with `resume`). */
  readonly sessions: SessionStore<object> | undefined;

  /** Use {@link createServer}. @throws InvalidArgError for invalid options. */
  constructor(options: NsServerOptions, onConnection: ((socket: NsSocket<Events>) => void) | undefined) {
    super();
    const { extension, resume, maxConnections, maxTotalBufferedBytes, helloTimeoutMs, ...framingOptions } = options;
    const helloMs = integerOption('helloTimeoutMs', helloTimeoutMs, DEFAULT_HELLO_TIMEOUT_MS, 0, 0x7fffffff);
    this.#hello = helloMs === 0 ? undefined : { leftMs: helloMs, timeoutMs: helloMs, option: 'helloTimeoutMs' };
    this.#maxConnections = limitOption('maxConnections', maxConnections);
    this.#maxTotalBufferedBytes = limitOption('maxTotalBufferedBytes', maxTotalBufferedBytes);
    this.#resume = resolveResumeOptions(resume);
    this.sessions =
      this.#resume === undefined
        ? undefined
        : new SessionStore<object>({
            ttlMs: this.#resume.ttlMs,
            onExpire: (socket) => (socket as NsSocket).destroy(new ConnectionClosedError('the session expired: no link for ttlMs')),
          });
    if (extension !== undefined && typeof extension !== 'function') throw new InvalidArgError('extension must be a function (socket) => NsExtension');
    if (onConnection !== undefined && typeof onConnection !== 'function') throw new InvalidArgError('onConnection must be a function');
    this.#extensionFactory = extension;
    const framing = createFramedServer(framingOptions, (framed) => this.#accept(framed));
    framing.on('clientError', (error, framed) => {
      const link = framed === undefined ? undefined : linkOf(framed);
      const reported = link?.failed(error) ?? error;
      // Every link of this server belongs to a socket it accepted, typed by its event map.
      this.emit('clientError', reported, link?.socket as NsSocket<Events> | undefined);
    });
    framing.on('listenRetry', (info) => this.emit('listenRetry', info));
    framing.on('listening', () => this.emit('listening'));
    framing.on('close', () => this.emit('close'));
    framing.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
      else process.emitWarning(error);
    });
    this.#framing = framing;
    if (onConnection !== undefined) this.on('connection', onConnection);
  }

  /** Open connections; a socket joins when its link is open and leaves when it closes. */
  get sockets(): ReadonlySet<NsSocket<Events>> {
    return this.#sockets;
  }

  /** Whether the server is listening. */
  get listening(): boolean {
    return this.#framing.listening;
  }

  /**
   * Starts listening on `{ host, port }` (port 0 picks a free one) or `{ path }`.
   * @returns the bound address.
   * @throws Error (rejects) with `code` `EADDRINUSE` once `retries` are used up, or Node's error.
   */
  listen(options: ListenOptions): Promise<ServerAddress> {
    return this.#framing.listen(options);
  }

  /**
   * Closes gracefully: stops accepting, ends every connection (flushing what was sent), resolves once
   * all closed. Connections still open after `timeoutMs` are destroyed.
   */
  close(options?: CloseOptions): Promise<void> {
    if (this.sessions !== undefined) {
      // Sessions end with the server: live links say so (SESSION_END), sockets waiting for a link close now.
      for (const socket of this.#sockets) void socket.end();
      this.sessions.clear();
    }
    return this.#framing.close(options);
  }

  /**
   * Where the server listens.
   * @throws NotConnectedError when it is not listening.
   */
  address(): ServerAddress {
    return this.#framing.address();
  }

  /**
   * Sends one event to every open socket: encoded once, the same bytes to all. Sockets whose link is
   * ending (the peer's end arrived, `close` not yet) are skipped: one peer going away never makes it
   * throw. A socket whose outbound buffer would pass `maxBufferedBytes` (a reader that stopped
   * reading) is destroyed with `ERR_BUFFER_OVERFLOW`, reported as `clientError`, rather than
   * silently skipped; so are the fullest sockets when the total passes `maxTotalBufferedBytes`.
   * @returns how many sockets it was sent to.
   * @throws InvalidArgError for an invalid event name or data JSON cannot serialize.
   */
  broadcast<const E extends EventKey<Events>>(event: E, ...data: SendArgs<Events, E>): number;
  broadcast(event: string | readonly string[], data?: unknown): number {
    const [prefix, body] = encodeEvent(event, data);
    const message = [prefix, typeof body === 'string' ? Buffer.from(body, 'utf8') : body] as const;
    let sent = 0;
    let buffered = 0;
    for (const socket of this.#sockets) {
      try {
        const core = coreOf(socket);
        if (core.sendEncoded(message)) sent++;
        buffered += core.countedBytes = socket.bufferedBytes;
      } catch (error) {
        if (error instanceof BufferOverflowError) this.#overflowed(socket, error);
        else if (!(error instanceof NotConnectedError)) throw error; // a link going away: skip it
      }
    }
    this.#counted = buffered;
    if (buffered > this.#maxTotalBufferedBytes) this.#overBudget(buffered);
    return sent;
  }

  /** Counts every open socket's buffered bytes again (the running total overestimates after drains). */
  #recount(): number {
    let total = 0;
    for (const socket of this.#sockets) total += coreOf(socket).countedBytes = socket.bufferedBytes;
    this.#counted = total;
    return total;
  }

  /** Destroys the sockets holding the most buffered bytes until the total fits the budget. */
  #overBudget(total: number): void {
    const budget = this.#maxTotalBufferedBytes;
    const fullest = [...this.#sockets].filter((socket) => socket.bufferedBytes > 0).sort((a, b) => b.bufferedBytes - a.bufferedBytes);
    for (const socket of fullest) {
      if (total <= budget) return;
      total -= socket.bufferedBytes;
      const message = `outbound bytes buffered across the server's sockets passed maxTotalBufferedBytes (${String(budget)}); this socket held ${String(socket.bufferedBytes)}`;
      this.#overflowed(socket, new BufferOverflowError(message));
    }
  }

  /** A socket that would buffer too much is destroyed, and the server says so. */
  #overflowed(socket: NsSocket<Events>, error: Error): void {
    socket.destroy(error);
    this.emit('clientError', error, socket);
  }

  /** Closes the server, for `await using server = createServer(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // AcceptingServer: called by the sockets this server accepted (NsSockets of its event map).

  /** @internal */
  socketOpened(socket: object): void {
    const typed = socket as NsSocket<Events>;
    this.#sockets.add(typed);
    this.emit('connection', typed);
  }

  /** @internal */
  socketClosed(socket: object): void {
    if (!this.#sockets.delete(socket as NsSocket<Events>)) return;
    const core = coreOf(socket);
    this.#counted -= core.countedBytes;
    core.countedBytes = 0;
  }

  /** @internal One open socket sent: its share of the running total is updated; past the budget, recounted and enforced. */
  sent(socket: object): void {
    const budget = this.#maxTotalBufferedBytes;
    if (budget === Number.POSITIVE_INFINITY || !this.#sockets.has(socket as NsSocket<Events>)) return;
    const core = coreOf(socket);
    const now = core.link?.framed.bufferedBytes ?? 0;
    this.#counted += now - core.countedBytes;
    core.countedBytes = now;
    if (this.#counted <= budget) return;
    const total = this.#recount();
    if (total > budget) this.#overBudget(total);
  }

  #accept(framed: FramedSocket): void {
    // framing counts this connection already.
    if (this.#framing.connections.size > this.#maxConnections) {
      framed.destroy();
      this.emit('clientError', new ClientRejectedError(`the server holds maxConnections (${String(this.#maxConnections)}) connections`), undefined);
      return;
    }
    const socket = new NsSocket<Events>();
    const factory = this.#extensionFactory;
    let extension: NsExtension | undefined;
    let failure: Error | undefined;
    if (factory !== undefined) {
      try {
        extension = factory(socket as NsSocket<EventMap>);
      } catch (error) {
        failure = toError(error);
      }
    }
    coreOf(socket).accept(framed, { server: this, extension, failure, resume: this.#resume, hello: this.#hello });
  }
}

/**
 * Creates an {@link NsServer}; call `listen()` on it. `onConnection` runs for every client once its
 * link is open (a `connection` listener).
 * @throws InvalidArgError for invalid options (TLS files are read here).
 */
export function createServer<Events extends EventMap = DefaultEvents>(onConnection?: (socket: NsSocket<Events>) => void): NsServer<Events>;
export function createServer<Events extends EventMap = DefaultEvents>(
  options: NsServerOptions,
  onConnection?: (socket: NsSocket<Events>) => void,
): NsServer<Events>;
export function createServer<Events extends EventMap = DefaultEvents>(
  optionsOrListener?: NsServerOptions | ((socket: NsSocket<Events>) => void),
  onConnection?: (socket: NsSocket<Events>) => void,
): NsServer<Events> {
  if (typeof optionsOrListener === 'function') return new NsServer<Events>({}, optionsOrListener);
  return new NsServer<Events>(optionsOrListener ?? {}, onConnection);
}
