import type { EventEmitter2 } from 'eventemitter2';
import { type AnySocket, kListenerAdded, kListenersChanged } from './internal.js';

type Method = (...args: unknown[]) => unknown;

/**
 * Wraps the EventEmitter2 methods every listener change goes through (on, once, many, prepend*,
 * addListener, waitFor and onAny call `_on`/`_onAny`; removeListener and removeAllListeners don't go
 * through `off`), so the socket can drop its per-name listener cache, and refuse a listener type
 * EventEmitter2's tree cannot hold safely before it is filed (every way of adding goes through
 * `_on`). Runs once, at load.
 */
export function installListenerHooks(socketPrototype: object, emitterPrototype: EventEmitter2): void {
  const base = emitterPrototype as unknown as Record<string, Method>;
  const wrap = (method: string, make: (original: Method) => Method): void => {
    Object.defineProperty(socketPrototype, method, { configurable: true, writable: true, value: make(base[method]!) });
  };
  for (const method of ['_on', '_onAny']) {
    wrap(method, (original) =>
      function listenerAdded(this: AnySocket, ...args: unknown[]): unknown {
        this[kListenerAdded](args[0]);
        return original.apply(this, args);
      },
    );
  }
  for (const method of ['removeListener', 'removeAllListeners']) {
    wrap(method, (original) =>
      function listenersChanged(this: AnySocket, ...args: unknown[]): unknown {
        this[kListenersChanged]();
        return original.apply(this, args);
      },
    );
  }
}
