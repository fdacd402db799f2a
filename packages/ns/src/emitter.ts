// The EventEmitter2 adapter of NsSocket: typed lifecycle overloads, data()/dataOnce()/offData(), and
// the per-name listener cache of the receive path. The one file that touches EventEmitter2 internals
// (`_all`, `event`, `_conf`, `_on`, `_onAny`): the cache pays for itself in the ns one-way benchmark
// (EventEmitter2's wildcard tree search per message is most of its emit cost).
import ee2, { type EventEmitter2 as EventEmitter2Type, type event as EeEvent, type eventNS as EeEventNS, type Listener, type ListenerFn, type OnOptions } from 'eventemitter2';
import type { ReceivedName } from './event-cache.js';
import { assertSafeListenerType, EVENT_DELIMITER, patternSegments } from './event-name.js';
import type { DataListener, DefaultEvents, EventMap, EventPattern, PatternData } from './event-types.js';
import type { NsSocketEvents } from './socket-events.js';

const { EventEmitter2 } = ee2;

/** EventEmitter2 settings shared by every socket (EventEmitter2 keeps a reference, never a copy). */
const EMITTER_CONF = Object.freeze({ wildcard: true, delimiter: EVENT_DELIMITER, ignoreErrors: true });

const MAX_CACHED_HANDLERS = 64;

/**
 * EventEmitter2's `_events` of every socket: with `wildcard` its listeners live in `listenerTree`, and
 * `_events` is only read (an empty object per socket was 56 bytes an idle connection). Frozen, so a
 * write would fail loudly rather than reach another socket.
 */
const NO_EVENTS = Object.freeze({});

type Method = (...args: unknown[]) => unknown;

function dataEvent(pattern: EventPattern): string[] {
  const segments = patternSegments(pattern);
  segments.unshift('data');
  return segments;
}

/** Whether a listener for `type` may want `pause`, `resume` or `idle` (by name, a top-level wildcard, or onAny). */
function wantsFlowEvents(type: unknown): boolean {
  const first = typeof type === 'string' ? type.split(EVENT_DELIMITER, 1)[0] : Array.isArray(type) ? type[0] : '*';
  return first === 'pause' || first === 'resume' || first === 'idle' || first === '*' || first === '**';
}

/**
 * Emits one received user event `(data, segments)` to the listeners of `name`: what EventEmitter2's
 * emit does, minus the tree search (the same listeners in the same order, called on a snapshot, with
 * `this.event` set). Assigned by NsEmitter's static block, which may read its private cache.
 */
export let emitReceived: (emitter: EventEmitter2Type, name: ReceivedName, data: unknown) => void;

/**
 * An EventEmitter2 (`wildcard: true`, delimiter `::`) with NsSocket's typed lifecycle events and
 * the `data::…` user-event helpers. Base class of {@link NsSocket}; not constructed on its own.
 */
export class NsEmitter<Events extends EventMap = DefaultEvents> extends EventEmitter2 {
  /** EventEmitter2 internals (not in its typings). */
  declare private _all: ListenerFn[] | undefined;
  declare private _conf: object;
  declare private _events: object;
  declare private event: string;
  /** Listeners per received name, so EventEmitter2's tree is not searched per message; dropped on any listener change. */
  #handlers: Map<ReceivedName, ListenerFn[]> | undefined;
  #wantsFlowEvents = false;

  constructor() {
    super(EMITTER_CONF);
    this._events = NO_EVENTS;
  }

  /** Whether someone listens (or may listen, through a wildcard) for `pause`, `resume` or `idle`. */
  protected get wantsFlowEvents(): boolean {
    return this.#wantsFlowEvents;
  }

  /** The first listener that may want `pause`/`resume`/`idle` was added: wire them from the link. */
  protected flowEventsWanted(): void {}

  /**
   * Listens for user events matching `event`: `*` matches one segment, `**` any number (including none).
   * The listener gets `(data, segments)`; inside a `function` listener `this.event` is `'data::…'`.
   * @throws InvalidArgError for an invalid pattern (a reserved segment too: {@link RESERVED_EVENT_SEGMENTS}).
   */
  data<const P extends EventPattern>(event: P, listener: DataListener<PatternData<Events, P>>): this {
    super.on(dataEvent(event), listener as ListenerFn);
    return this;
  }

  /** Like {@link NsEmitter.data}, for the first matching event only. */
  dataOnce<const P extends EventPattern>(event: P, listener: DataListener<PatternData<Events, P>>): this {
    super.once(dataEvent(event), listener as ListenerFn);
    return this;
  }

  /** Removes a listener added with {@link NsEmitter.data} or {@link NsEmitter.dataOnce} (same pattern). */
  offData<const P extends EventPattern>(event: P, listener: DataListener<PatternData<Events, P>>): this {
    this.off(dataEvent(event), listener as ListenerFn);
    return this;
  }

  /**
   * Adds a listener; lifecycle events are typed ({@link NsSocketEvents}), anything else is EventEmitter2's.
   * @throws InvalidArgError for an event with a reserved segment ({@link RESERVED_EVENT_SEGMENTS}), as
   *   every other way of adding a listener (`once`, `many`, `prependListener`, `waitFor`, ...).
   */
  override on<K extends keyof NsSocketEvents>(event: K, listener: (...args: NsSocketEvents[K]) => void): this;
  override on(event: EeEvent | EeEventNS, listener: ListenerFn, options?: boolean | OnOptions): this | Listener;
  override on(event: EeEvent | EeEventNS, listener: ListenerFn, options?: boolean | OnOptions): this | Listener {
    return super.on(event, listener, options);
  }

  /** Adds a one-time listener; lifecycle events are typed ({@link NsSocketEvents}). */
  override once<K extends keyof NsSocketEvents>(event: K, listener: (...args: NsSocketEvents[K]) => void): this;
  override once(event: EeEvent | EeEventNS, listener: ListenerFn, options?: true | OnOptions): this | Listener;
  override once(event: EeEvent | EeEventNS, listener: ListenerFn, options?: true | OnOptions): this | Listener {
    return super.once(event, listener, options);
  }

  /** Removes a listener; lifecycle events are typed ({@link NsSocketEvents}). */
  override off<K extends keyof NsSocketEvents>(event: K, listener: (...args: NsSocketEvents[K]) => void): this;
  override off(event: EeEvent | EeEventNS, listener: ListenerFn): this;
  override off(event: EeEvent | EeEventNS, listener: ListenerFn): this {
    this.#handlers = undefined;
    return super.off(event, listener);
  }

  /** Sets the per-event listener limit of this socket only (the default settings object is shared). */
  override setMaxListeners(n: number): void {
    if (this._conf === EMITTER_CONF) this._conf = { ...EMITTER_CONF };
    super.setMaxListeners(n);
  }

  static {
    emitReceived = (target, name, data) => {
      // Only ever called with the socket of a link (an NsEmitter).
      const emitter = target as NsEmitter;
      const all = emitter._all;
      if (all !== undefined && all.length > 0) {
        emitter.emit(name.emitType, data, name.segments.slice());
        return;
      }
      let handlers = emitter.#handlers?.get(name);
      if (handlers === undefined) {
        handlers = emitter.listeners(name.emitType);
        const cache = (emitter.#handlers ??= new Map());
        if (cache.size >= MAX_CACHED_HANDLERS) cache.clear();
        cache.set(name, handlers);
      }
      if (handlers.length === 0) return;
      const segments = name.segments.slice();
      for (let i = 0; i < handlers.length; i++) {
        emitter.event = name.eventString;
        handlers[i]!.call(emitter, data, segments);
      }
    };

    // Every listener change goes through these EventEmitter2 methods (on, once, many, prepend*,
    // addListener, waitFor and onAny call `_on`/`_onAny`; removeListener and removeAllListeners
    // don't go through `off`): the cache is dropped, and a listener type EventEmitter2's tree cannot
    // hold safely is refused before it is filed.
    const base = EventEmitter2.prototype;
    const wrap = (method: string, make: (original: Method) => Method): void => {
      const original: unknown = Reflect.get(base, method);
      if (typeof original !== 'function') throw new Error(`eventemitter2 has no ${method}(): unsupported version`);
      Object.defineProperty(NsEmitter.prototype, method, { configurable: true, writable: true, value: make(original as Method) });
    };
    for (const method of ['_on', '_onAny']) {
      wrap(method, (original) =>
        function listenerAdded(this: NsEmitter, ...args: unknown[]): unknown {
          const type = args[0];
          assertSafeListenerType(type);
          this.#handlers = undefined;
          if (!this.#wantsFlowEvents && wantsFlowEvents(type)) {
            this.#wantsFlowEvents = true;
            this.flowEventsWanted();
          }
          return original.apply(this, args);
        },
      );
    }
    for (const method of ['removeListener', 'removeAllListeners']) {
      wrap(method, (original) =>
        function listenersChanged(this: NsEmitter, ...args: unknown[]): unknown {
          this.#handlers = undefined;
          return original.apply(this, args);
        },
      );
    }
  }
}
