import type { FramePayload } from '@proto/framing';
import type { NsSocketStats } from './socket-events.js';

export { EXTENSION_TYPE_MAX, EXTENSION_TYPE_MIN } from './message.js';

/**
 * What the extension layer sees of the socket its hooks are called for: the link-level operations
 * of an {@link NsSocket}, not the class (so a layer above depends on this interface only). An
 * `NsSocket` is one.
 */
export interface NsExtensionSocket {
  /** Whether a link is open and can take user events. */
  readonly connected: boolean;
  /** The peer's IP address; undefined without a link or over a Unix socket. */
  readonly remoteAddress: string | undefined;
  /** The peer's port; undefined without a link or over a Unix socket. */
  readonly remotePort: number | undefined;
  /** Counters over all links of the socket. */
  readonly stats: NsSocketStats;
  /** Outbound bytes accepted but not yet handed to the kernel on the current link (0 without one). */
  readonly bufferedBytes: number;
  /** Resolves once the current link's outbound bytes are at or below its low-water mark (see NsSocket.drained). */
  drained(): Promise<void>;
  /**
   * Stops reading from the current link (the layer above applies backpressure: it cannot take more
   * input until its peer reads). Frames already received in the current chunk are still delivered.
   * A new link starts reading.
   */
  pauseReading(): void;
  /** Resumes reading after {@link NsExtensionSocket.pauseReading} (no-op without a link). */
  resumeReading(): void;
  /** Largest frame on the current link, both directions; settable while a link is live. */
  maxFrameBytes: number;
  /** Sends `[type][body]` (type in 0x40..0x7f), also while the link is opening. */
  sendExtension(type: number, body: FramePayload): boolean;
  /** TLS keying material of the current link (RFC 5705); undefined without TLS. */
  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer | undefined;
  /** Fails the current link, keeping a reconnecting client (else `destroy(error)`). */
  dropLink(error?: Error): void;
  /** Closes the socket gracefully. */
  end(): Promise<void>;
  /** Closes the socket at once. */
  destroy(error?: Error): void;
  /** With `resume`: whether a session is established (it survives link drops until it ends or is lost). */
  readonly inSession: boolean;
}

/**
 * Hooks for the layer above ns (e.g. `@proto/rpc`), which owns the type bytes
 * {@link EXTENSION_TYPE_MIN}..{@link EXTENSION_TYPE_MAX} and sends with `socket.sendExtension(type, body)`.
 * `NsExtension` is these hooks called with the {@link NsSocket} itself.
 *
 * Client: `new NsSocket({ extension })`. Server: `createServer({ extension: (socket) => NsExtension }, ...)`,
 * the factory is called once per accepted socket, before any byte from the peer is read.
 *
 * @typeParam S - what the hooks get: the socket, seen as {@link NsExtensionSocket} at the least.
 */
export interface NsExtensionHooks<S extends NsExtensionSocket = NsExtensionSocket> {
  /**
   * A message whose type byte is in the extension range arrived. `body` is what follows the type byte
   * (a zero-copy view: it stays valid, nothing reuses its memory). Called in the link's opening state too.
   * A throw here closes the link with that error (wrap peer mistakes in ProtocolError).
   */
  onMessage(socket: S, type: number, body: Buffer): void;

  /**
   * Called for every new link (client connect or reconnect, server accept), synchronously right after
   * ns sent its hello and before any byte from the peer is processed. Until the returned promise settles
   * the link is *opening*: only `sendExtension()` writes; user `send()` goes to the offline queue (or
   * throws NotConnectedError); a user event from a peer that has not itself finished opening is a
   * ProtocolError.
   *
   * Resolve: the link opens (`connect` is emitted, the offline queue is flushed, `connect()` resolves,
   * the server calls its connection listener); a client's link waits for the server's hello too if it
   * has not arrived yet. Reject: the link is closed with that error; a client
   * reconnects unless the error has `fatal: true`, in which case `connect()` rejects with it and the
   * socket closes. `signal` aborts when the link closes or the socket is ended first.
   */
  onLinkOpening?(socket: S, signal: AbortSignal): Promise<void> | void;

  /** Called exactly once per link that reached {@link onLinkOpening}, when it closes, with the cause if any. */
  onLinkClosed?(socket: S, error: Error | undefined): void;

  /**
   * With `resume`: the extension types that belong to one link (never numbered, never resent), e.g.
   * a handshake and keepalive. Every other extension message is part of the session (sent after READY,
   * or kept in the window while the link is down). Without it, every extension message is.
   */
  readonly linkMessageTypes?: ReadonlySet<number> | undefined;

  /**
   * With `resume`, on the server: the identity this link authenticated as, once `onLinkOpening`
   * resolved. A session resumes only for a link with the same identity (compared in constant time).
   */
  sessionOwner?(socket: S): Uint8Array | undefined;

  /** With `resume`: a new link continues this socket's session (after it opened; before the resend). */
  onLinkResumed?(socket: S): void;

  /**
   * With `resume`: the session ended or was lost (a client's `sessionLost`, or the socket closing
   * while in a session); whatever was in flight in it is gone.
   */
  onSessionLost?(socket: S): void;
}

/** Whether an error from `onLinkOpening` must stop reconnecting (`err.fatal === true`). */
export function isFatal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { fatal?: unknown }).fatal === true;
}
