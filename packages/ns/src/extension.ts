import type { NsSocket } from './ns-socket.js';

export { EXTENSION_TYPE_MAX, EXTENSION_TYPE_MIN } from './message.js';

/**
 * Hooks for the layer above ns (e.g. `@proto/rpc`), which owns the type bytes
 * {@link EXTENSION_TYPE_MIN}..{@link EXTENSION_TYPE_MAX} and sends with `socket.sendExtension(type, body)`.
 *
 * Client: `new NsSocket({ extension })`. Server: `createServer({ extension: (socket) => NsExtension }, ...)`,
 * the factory is called once per accepted socket, before any byte from the peer is read.
 */
export interface NsExtension {
  /**
   * A message whose type byte is in the extension range arrived. `body` is what follows the type byte
   * (a zero-copy view: it stays valid, nothing reuses its memory). Called in the link's opening state too.
   * A throw here closes the link with that error (wrap peer mistakes in ProtocolError).
   */
  onMessage(socket: NsSocket, type: number, body: Buffer): void;

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
  onLinkOpening?(socket: NsSocket, signal: AbortSignal): Promise<void> | void;

  /** Called exactly once per link that reached {@link onLinkOpening}, when it closes, with the cause if any. */
  onLinkClosed?(socket: NsSocket, error: Error | undefined): void;
}

/** Whether an error from `onLinkOpening` must stop reconnecting (`err.fatal === true`). */
export function isFatal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { fatal?: unknown }).fatal === true;
}
