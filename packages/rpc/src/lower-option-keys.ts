import type { NsServerOptions, NsSocketOptions } from '@proto/ns';

/**
 * `keys`, checked by the compiler to name every key of `T` (a key missing from the list is a type
 * error naming it), so an option ns or framing adds cannot be refused here as unknown.
 */
function allKeysOf<T>() {
  return <const K extends readonly (keyof T)[]>(
    keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missingKeys: Exclude<keyof T, K[number]> }),
  ): ReadonlySet<string> => new Set<string>(keys as readonly string[]);
}

/** The top-level keys of the ns (and framing) options an `RpcClient` passes down. */
export const NS_CLIENT_KEYS = allKeysOf<Omit<NsSocketOptions, 'extension'>>()([
  'host',
  'port',
  'path',
  'connectTimeoutMs',
  'reconnect',
  'offlineQueue',
  'resume',
  'tls',
  'noDelay',
  'highWaterMark',
  'lowWaterMark',
  'maxBufferedBytes',
  'idleTimeoutMs',
  'maxFrameBytes',
  'lengthPrefix',
]);

/** The top-level keys of the ns (and framing) options an `RpcServer` passes down. */
export const NS_SERVER_KEYS = allKeysOf<Omit<NsServerOptions, 'extension'>>()([
  'resume',
  'maxConnections',
  'maxTotalBufferedBytes',
  'helloTimeoutMs',
  'tls',
  'noDelay',
  'highWaterMark',
  'lowWaterMark',
  'maxBufferedBytes',
  'idleTimeoutMs',
  'maxFrameBytes',
  'lengthPrefix',
]);
