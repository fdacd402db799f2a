// The public shapes of a FramedSocket (its events and its stats) and two ways its idle heap is kept
// small: the listener table Node's EventEmitter keeps in `_events` is an object of fixed shape (as
// net.Socket's own is), and the stats object is a live view made on first read.
import type { ProtoError } from './errors.js';

/** Traffic counters of a {@link FramedSocket}; bytes include the length headers. */
export interface FramedSocketStats {
  /** Bytes received. */
  bytesIn: number;
  /** Bytes accepted by `send()` (headers included). */
  bytesOut: number;
  /** Frames received. */
  framesIn: number;
  /** Frames accepted by `send()`. */
  framesOut: number;
}

/** Events of a {@link FramedSocket}. */
export interface FramedSocketEvents {
  /** One complete inbound frame's payload (a view that stays valid; the socket never reuses it). */
  frame: [frame: Buffer];
  /** Outbound bytes still queued after a write reached `highWaterMark`: stop sending until `resume`. */
  pause: [];
  /** After a `pause`, outbound buffered bytes fell to `lowWaterMark`: sending may go on. */
  resume: [];
  /** No traffic either way for `idleTimeoutMs`. The socket stays open. */
  timeout: [];
  /** A stream error, or a typed error for bad inbound bytes; `close` follows. */
  error: [error: ProtoError | NodeJS.ErrnoException];
  /** The socket closed; `hadError` tells whether an `error` came first. */
  close: [hadError: boolean];
}

/** Told when a socket closes, before its `close` event (a server's connection tracker). */
export interface SocketTracker {
  socketClosed(socket: object): void;
}

/**
 * Node's EventEmitter makes `_events` a `{ __proto__: null }` literal, a dictionary-mode object
 * (~240 bytes) per emitter. This one has the events a socket is listened to for ahead as fields and
 * a prototype with no properties (no inherited names, as with the null prototype): ~48 bytes.
 */
class ListenerTable {
  close = undefined;
  error = undefined;
  frame = undefined;
}
Object.setPrototypeOf(ListenerTable.prototype, null);
Reflect.deleteProperty(ListenerTable.prototype, 'constructor');

/** Gives a freshly constructed emitter (no listeners yet) a fixed-shape listener table. */
export function useListenerTable(emitter: object): void {
  (emitter as { _events?: object })._events = new ListenerTable();
}

/** The names of the events `emitter` has listeners for (the table's empty fields are not names). */
export function listenedEventNames<T extends string | symbol>(names: T[], listenerCount: (name: T) => number): T[] {
  return names.filter((name) => listenerCount(name) > 0);
}

/** Reads one counter of `socket` (a FramedSocket's private counters, through its class). */
export type CounterReader<S> = (socket: S, name: keyof FramedSocketStats) => number;

const VIEWS = new WeakMap<object, Readonly<FramedSocketStats>>();

function counter<S>(socket: S, read: CounterReader<S>, name: keyof FramedSocketStats): PropertyDescriptor {
  return { get: () => read(socket, name), enumerable: true };
}

/**
 * The live stats object of `socket`: the same object on every call, its counters read the current
 * values. Made on first read and kept apart, so a socket whose stats are never read has none.
 */
export function statsView<S extends object>(socket: S, read: CounterReader<S>): Readonly<FramedSocketStats> {
  let stats = VIEWS.get(socket);
  if (stats === undefined) {
    stats = Object.defineProperties({} as FramedSocketStats, {
      bytesIn: counter(socket, read, 'bytesIn'),
      bytesOut: counter(socket, read, 'bytesOut'),
      framesIn: counter(socket, read, 'framesIn'),
      framesOut: counter(socket, read, 'framesOut'),
    });
    VIEWS.set(socket, stats);
  }
  return stats;
}
