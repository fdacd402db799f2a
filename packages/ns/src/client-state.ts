import { InvalidArgError } from '@proto/framing';
import { resolveReconnectOptions } from './backoff.js';
import type { AnySocket } from './internal.js';
import { OfflineQueue } from './offline-queue.js';
import type { NsConnectOptions, NsSocketOptions } from './options.js';
import { Reconnector } from './reconnect.js';

/** Client-only state of an NsSocket, allocated only for sockets that dial (accepted sockets stay lean). */
export interface ClientState {
  options: NsSocketOptions;
  reconnector: Reconnector<AnySocket> | undefined;
  queue: OfflineQueue | undefined;
  /** Aborts the dial in progress. */
  dial: AbortController | undefined;
  /** When the current attempt started dialing (`Date.now()`): connectTimeoutMs also covers the wait for the peer's hello. */
  dialStartedAt: number;
  /** Fails a link whose peer has not said hello by the attempt's deadline. */
  helloTimer: NodeJS.Timeout | undefined;
  /** The promise `connect()` returned, until a link opens or the socket closes. */
  pending: { promise: Promise<AnySocket>; resolve: () => void; reject: (error: Error) => void } | undefined;
}

/**
 * Merges `options` over the current client settings, validating them, and returns the updated
 * state (a new one the first time). A queue already holding messages is kept.
 * @throws InvalidArgError for invalid reconnect, offline-queue or extension options.
 */
export function configureClient(client: ClientState | undefined, options: NsSocketOptions, fire: (socket: AnySocket) => void): ClientState {
  if (typeof options !== 'object' || options === null) throw new InvalidArgError('options must be an object');
  const merged = (client === undefined ? options : { ...client.options, ...options }) as NsSocketOptions;
  const reconnect = resolveReconnectOptions(merged.reconnect);
  const queueOption = merged.offlineQueue;
  const queue =
    queueOption === undefined || queueOption === false ? undefined : (client?.queue ?? new OfflineQueue(queueOption === true ? {} : queueOption));
  if (merged.extension !== undefined && typeof merged.extension.onMessage !== 'function') {
    throw new InvalidArgError('extension.onMessage must be a function');
  }
  if (client === undefined) {
    return {
      options: merged,
      reconnector: reconnect === undefined ? undefined : new Reconnector(reconnect, fire),
      queue,
      dial: undefined,
      dialStartedAt: 0,
      helloTimer: undefined,
      pending: undefined,
    };
  }
  client.options = merged;
  if (reconnect === undefined) {
    client.reconnector?.cancel();
    client.reconnector = undefined;
  } else if (client.reconnector === undefined) client.reconnector = new Reconnector(reconnect, fire);
  else client.reconnector.options = reconnect;
  client.queue = queue;
  return client;
}

/** What `@proto/framing`'s connect() gets: the address and transport options, plus the dial's signal. */
export function dialOptions(options: NsSocketOptions, signal: AbortSignal): NsConnectOptions & { signal: AbortSignal } {
  const { extension: _extension, reconnect: _reconnect, offlineQueue: _queue, ...transport } = options;
  return { ...(transport as NsConnectOptions), signal };
}
