import type { EventPattern } from '@proto/ns';
import type { Link } from './link.js';
import type { RpcPeer } from './peer.js';

/** Listener of `server.data()`: the event's data, its segments, and the client that sent it. */
export type ServerDataListener = (data: unknown, event: string[], peer: RpcPeer) => void;

/** One `server.data()` listener and its per-connection wrappers. */
export interface DataRegistration {
  readonly pattern: EventPattern;
  readonly listener: ServerDataListener;
  readonly wrappers: Map<RpcPeer, (data: unknown, event: string[]) => void>;
}

/** A pattern as one comparable string. */
export function patternKey(pattern: EventPattern): string {
  return typeof pattern === 'string' ? pattern : pattern.join('::');
}

/** Deliver `registration`'s events from `link` (with its peer) to the listener. */
export function attachData(registration: DataRegistration, link: Link): void {
  const peer = link.peer;
  const listener = registration.listener;
  // One wrapper per listener and connection (not per message) carries the peer along.
  const wrapper = (data: unknown, event: string[]): void => listener(data, event, peer);
  registration.wrappers.set(peer, wrapper);
  link.socket.data(registration.pattern, wrapper);
}

/** Stop delivering `registration`'s events from `link`. */
export function detachData(registration: DataRegistration, link: Link): void {
  const wrapper = registration.wrappers.get(link.peer);
  if (wrapper === undefined) return;
  registration.wrappers.delete(link.peer);
  link.socket.offData(registration.pattern, wrapper);
}
