import { AbortedError, type ConnectOptions, connect as connectFramed, DEFAULT_CONNECT_TIMEOUT_MS, type FramedSocket, InvalidArgError } from '@proto/framing';
import { resolveReconnectOptions } from './backoff.js';
import type { HelloDeadline, LinkExtension } from './link-types.js';
import type { NsClientOptions } from './options.js';
import { Reconnector, type ScheduledAttempt } from './reconnect.js';
import { toError } from '@proto/framing/internal';

/** The settings a dialer keeps (the extension as links call it). */
type Options = NsClientOptions<LinkExtension>;

/** What a {@link Dialer} tells its socket: the socket's core (one per socket, no closures). */
export interface DialerHost {
  /** A dial connected: `framed` is the new link's transport. */
  dialed(framed: FramedSocket): void;
  /** A dial failed; `fatal` when retrying cannot help (bad options). */
  dialFailed(error: Error, fatal: boolean): void;
  /** The reconnect timer fired. */
  retry(): void;
  /** The signal of a pending `connect()` aborted: that connect() was rejected, the socket is to close. */
  aborted(): void;
}

function retryTimerFired(host: DialerHost): void {
  host.retry();
}

interface PendingConnect<S> {
  readonly promise: Promise<S>;
  readonly resolve: (socket: S) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The client side of an NsSocket: its settings, the dial in progress, the deadline of an attempt
 * (`connectTimeoutMs` covers the dial and the wait for the peer's hello), the reconnect timer, and
 * the promise a pending `connect()` returned. Accepted sockets have none.
 */
export class Dialer<S extends object> {
  #options: Options;
  #reconnector: Reconnector<DialerHost> | undefined;
  /** Aborts the dial in progress. */
  #dial: AbortController | undefined;
  /** When the current attempt started dialing (`Date.now()`). */
  #startedAt = 0;
  #pending: PendingConnect<S> | undefined;
  readonly #socket: S;
  readonly #host: DialerHost;

  /** Call {@link configure} next. */
  constructor(socket: S, host: DialerHost) {
    this.#socket = socket;
    this.#host = host;
    this.#options = {};
  }

  /** The merged settings. */
  get options(): Options {
    return this.#options;
  }

  /** Whether failed attempts and lost links are retried. */
  get reconnects(): boolean {
    return this.#reconnector !== undefined;
  }

  /** Whether a dial is in progress. */
  get dialing(): boolean {
    return this.#dial !== undefined;
  }

  /** Whether a `connect()` waits for a link to open. */
  get connectPending(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Merges `options` over the current settings, validating them (`check` validates the rest).
   * @throws InvalidArgError for invalid options (nothing changes then).
   */
  configure(options: Options, check: (merged: Options) => void): void {
    if (typeof options !== 'object' || options === null) throw new InvalidArgError('options must be an object');
    const merged: Options = { ...this.#options, ...options };
    const reconnect = resolveReconnectOptions(merged.reconnect);
    check(merged);
    if (merged.extension !== undefined && typeof merged.extension.onMessage !== 'function') {
      throw new InvalidArgError('extension.onMessage must be a function');
    }
    this.#options = merged;
    if (reconnect === undefined) {
      this.#reconnector?.cancel();
      this.#reconnector = undefined;
    } else if (this.#reconnector === undefined) this.#reconnector = new Reconnector(reconnect, retryTimerFired);
    else this.#reconnector.options = reconnect;
  }

  /** @throws InvalidArgError without an address to dial. */
  checkAddress(): void {
    if (this.#options.path === undefined && this.#options.port === undefined) {
      throw new InvalidArgError('connect() needs a port (with an optional host) or a Unix socket path');
    }
  }

  /**
   * The promise of the pending `connect()` (a new one when none is pending). An abort of `signal`
   * before it settles is reported as `aborted`.
   */
  pending(signal?: AbortSignal): Promise<S> {
    let pending = this.#pending;
    if (pending === undefined) {
      let resolve!: (socket: S) => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<S>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#pending = pending = { promise, resolve, reject };
    }
    if (signal !== undefined) {
      const settled = pending.promise;
      const onAbort = (): void => {
        if (this.#pending?.promise !== settled) return;
        this.rejectPending(new AbortedError('connect() was aborted', { cause: signal.reason }));
        this.#host.aborted();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const cleanup = (): void => signal.removeEventListener('abort', onAbort);
      settled.then(cleanup, cleanup);
    }
    return pending.promise;
  }

  /** Resolves the pending `connect()`, if any. */
  resolvePending(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    pending.resolve(this.#socket);
  }

  /** Rejects the pending `connect()`, if any. */
  rejectPending(error: Error): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    pending.reject(error);
  }

  /** Starts a dial; its outcome arrives as `dialed` or `dialFailed`. */
  dial(): void {
    const abort = new AbortController();
    this.#dial = abort;
    this.#startedAt = Date.now();
    connectFramed(dialOptions(this.#options, abort.signal)).then(
      (framed: FramedSocket) => {
        if (this.#dial !== abort) {
          framed.destroy();
          return;
        }
        this.#dial = undefined;
        this.#host.dialed(framed);
      },
      (error: unknown) => {
        if (this.#dial !== abort) return;
        this.#dial = undefined;
        const err = toError(error);
        // Bad options will not get better by retrying.
        this.#host.dialFailed(err, err instanceof InvalidArgError);
      },
    );
  }

  /** Abandons the dial in progress (its outcome is ignored). */
  abortDial(): void {
    const dial = this.#dial;
    if (dial === undefined) return;
    this.#dial = undefined;
    dial.abort();
  }

  /** Stops everything scheduled: the reconnect timer and a dial. */
  cancel(): void {
    this.#reconnector?.cancel();
    this.abortDial();
  }

  /**
   * Milliseconds left of the current attempt's `connectTimeoutMs` (counted from the dial), which
   * also bounds the wait for the peer's hello; undefined when the attempt has no bound.
   */
  helloDeadline(): HelloDeadline | undefined {
    const timeoutMs = this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (timeoutMs <= 0) return undefined;
    return { leftMs: Math.max(0, timeoutMs - (Date.now() - this.#startedAt)), timeoutMs, option: 'connectTimeoutMs' };
  }

  /** Whether a reconnect timer is pending. */
  get retryPending(): boolean {
    return this.#reconnector?.pending === true;
  }

  /** Schedules the next attempt for one failure; undefined without reconnect or with attempts used up. */
  scheduleRetry(): ScheduledAttempt | undefined {
    return this.#reconnector?.schedule(this.#host);
  }

  /** A link opened: the next failure starts from attempt 1 again. */
  resetAttempts(): void {
    this.#reconnector?.reset();
  }
}

/** What `@proto/framing`'s connect() gets: the address and transport options, plus the dial's signal. */
function dialOptions(options: Options, signal: AbortSignal): ConnectOptions {
  const { extension: _extension, reconnect: _reconnect, offlineQueue: _queue, resume: _resume, ...transport } = options;
  return { ...(transport as ConnectOptions), signal };
}
