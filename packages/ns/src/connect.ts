import type { DefaultEvents, EventMap } from './event-types.js';
import { type NsConnectOptions, NsSocket } from './ns-socket.js';

/**
 * Connects a client {@link NsSocket}: resolves once its link is open. With `reconnect`, failed
 * attempts are retried first, and it rejects only when they are used up.
 * `options.signal` abandons it (AbortedError; the socket is closed).
 * @throws (rejects) the connection error, AbortedError, or InvalidArgError for invalid options.
 */
export function connect<Events extends EventMap = DefaultEvents>(options: NsConnectOptions): Promise<NsSocket<Events>> {
  let socket: NsSocket<Events>;
  const { signal, ...settings } = options;
  try {
    socket = new NsSocket<Events>(settings);
  } catch (error) {
    return Promise.reject(error);
  }
  return socket.connect(signal === undefined ? undefined : { signal });
}
