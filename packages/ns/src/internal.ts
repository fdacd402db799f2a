// Symbols and small types shared by the files that make up NsSocket and NsServer. Not exported from
// the package: the symbol-keyed members they name are internal.
import type { NsExtension } from './extension.js';
import type { NsSocket } from './ns-socket.js';

/** Adopts a connection accepted by a server. */
export const kAccept = Symbol('accept');
/** Sends an already-encoded user event (server broadcast). */
export const kSendEncoded = Symbol('sendEncoded');
/** A frame arrived on a link. */
export const kOnFrame = Symbol('onFrame');
/** A link failed (the server forwards the errors of accepted sockets). */
export const kOnLinkError = Symbol('onLinkError');
/** A link closed. */
export const kOnLinkClose = Symbol('onLinkClose');
/** The reconnect timer fired. */
export const kReconnect = Symbol('reconnect');
/** Time to deliver user events held while opening. */
export const kDeliverHeld = Symbol('deliverHeld');
/** The peer's hello did not arrive within connectTimeoutMs. */
export const kHelloTimeout = Symbol('helloTimeout');
/** Listeners were removed. */
export const kListenersChanged = Symbol('listenersChanged');
/** A listener was added (with its event type). */
export const kListenerAdded = Symbol('listenerAdded');

/** An NsSocket of any event map. */
export type AnySocket = NsSocket<object>;

/** What an accepted socket needs from its server (so ns-socket.ts does not import server.ts). */
export interface AcceptingServer {
  readonly extensionFactory: ((socket: AnySocket) => NsExtension) | undefined;
  socketOpened(socket: AnySocket): void;
  socketClosed(socket: AnySocket, error: Error | undefined): void;
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
