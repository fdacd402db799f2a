import type { DefaultEvents, EventMap } from './event-types.js';
import { type NsConnectOptions, NsSocket } from './ns-socket.js';

/**
 * Connects a client {@link NsSocket}: resolves once its link is open. With `reconnect`, failed
 * attempts are retried first, and it rejects only when they are used up.
 * @throws (rejects) the connection error, or InvalidArgError for invalid options.
 */
export function connect<Events extends EventMap = DefaultEvents>(options: NsConnectOptions): Promise<NsSocket<Events>> {
  let socket: NsSocket<Events>;
  try {
    socket = new NsSocket<Events>(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return socket.connect();
}
