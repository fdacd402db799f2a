import type { ProtoError } from './errors.js';
import type { SessionLostReason } from './session-messages.js';

/** Lifecycle events of an NsSocket and their listener arguments. User events arrive under `data::…`. */
export interface NsSocketEvents {
  /**
   * A link opened: every connect and reconnect of a client, once the server's hello arrived and the
   * extension (if any) opened the link; once for an accepted socket, just before the server's
   * connection listener runs.
   */
  connect: [];
  /** An open link was lost (or dropped with `dropLink()`) and the client will reconnect (`reconnecting` follows). */
  disconnect: [error: Error | undefined];
  /** A reconnect attempt is scheduled in `delayMs`. */
  reconnecting: [info: NsReconnectingInfo];
  /**
   * With `resume`: the session continues on a new link (after `connect` on a client; on the server's
   * socket, which stays the same object). What the peer had not received was resent first.
   */
  resumed: [info: NsResumedInfo];
  /**
   * With `resume`, on a client: the session could not continue (the server forgot it: `ttlMs` passed,
   * it restarted, or it ended the session). `unsent` messages of this side may not have been
   * delivered and are dropped; a new session starts on the same socket.
   */
  sessionLost: [info: NsSessionLostInfo];
  /**
   * The socket closed for good: `end()`, `destroy()`, a lost link without reconnect, reconnect
   * attempts used up, or a fatal error of the extension. Carries the error, if any.
   */
  close: [error: Error | undefined];
  /**
   * A link failed: a network error, bad input from the peer (`ERR_PROTOCOL`), an exception thrown by
   * a data listener, or the error given to `destroy(err)`. Never thrown when nobody listens; the
   * error also rides on `disconnect`/`close` and `stats.lastError`.
   */
  error: [error: ProtoError | NodeJS.ErrnoException];
  /** Outbound buffered bytes reached the high-water mark: `send()` returns false until `resume`. */
  pause: [];
  /** Outbound buffered bytes fell to the low-water mark after a `pause`. */
  resume: [];
  /** No traffic either way for `idleTimeoutMs`. The link stays open: close it if you want. */
  idle: [];
}

/** Argument of the `reconnecting` event. */
export interface NsReconnectingInfo {
  /** 1 for the first attempt after a failure; starts over after a successful connection. */
  attempt: number;
  /** Milliseconds until the attempt. */
  delayMs: number;
  /** The failure that caused it. */
  error: Error | undefined;
}

/** Argument of the `resumed` event. */
export interface NsResumedInfo {
  /** Messages this side sent again because the peer had not received them. */
  resent: number;
}

/** Argument of the `sessionLost` event. */
export interface NsSessionLostInfo {
  /**
   * `expired`: the server's `ttlMs` passed without a link; `unknown`: the server does not know the
   * session (it restarted, or does not resume any more); `invalid`: the two sides' counts disagreed;
   * `ended`: the server ended the session (its `end()` or `close()`).
   */
  reason: SessionLostReason;
  /** Messages this side sent (or queued) that the peer had not acknowledged: they are dropped. */
  unsent: number;
}

/** Counters of an NsSocket over all its links: `socket.stats` is a live object (copy it with `{ ...socket.stats }`). */
export interface NsSocketStats {
  /** Bytes received, frame headers included. */
  bytesIn: number;
  /** Bytes accepted for sending, frame headers included. */
  bytesOut: number;
  /** User events received. */
  messagesIn: number;
  /** User events sent (queued ones count once flushed). */
  messagesOut: number;
  /**
   * Successful reconnects: links that opened after this socket's first (a `connect()` after
   * `close` counts too). Failed attempts are not counted (they are `reconnecting` events).
   */
  reconnects: number;
  /** The most recent link error, if any. */
  lastError: Error | undefined;
}

/**
 * Where an NsSocket is in its life: `idle` (not connected yet), `connecting` (dialing), `opening`
 * (link up, waiting for the server's hello or the extension's handshake), `open`, `reconnecting`
 * (waiting for the next attempt), `closing` (`end()` flushing, or the link is ending: the peer's end
 * arrived; a client with `reconnect` goes on to `reconnecting`), `closed`.
 */
export type NsSocketState = 'idle' | 'connecting' | 'opening' | 'open' | 'reconnecting' | 'closing' | 'closed';
