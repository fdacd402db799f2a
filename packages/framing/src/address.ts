import { InvalidArgError } from './errors.js';

/** Where to connect or listen: a TCP host and port, or the path of a Unix socket. */
export type SocketAddress = { host?: string | undefined; port: number } | { path: string };

/** A validated {@link SocketAddress}. */
export type ResolvedAddress = { kind: 'tcp'; host: string | undefined; port: number } | { kind: 'unix'; path: string };

/**
 * Checks a {@link SocketAddress} once.
 *
 * @throws InvalidArgError unless it has a non-empty `path` or an integer `port` in 0..65535.
 */
export function resolveAddress(options: object, allowPortZero: boolean): ResolvedAddress {
  const { path, port, host } = options as { path?: unknown; port?: unknown; host?: unknown };
  if (path !== undefined) {
    if (typeof path !== 'string' || path.length === 0) throw new InvalidArgError('path must be a non-empty string');
    return { kind: 'unix', path };
  }
  const min = allowPortZero ? 0 : 1;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 65535) {
    throw new InvalidArgError(`port must be an integer in ${String(min)}..65535 (or give a path), got ${String(port)}`);
  }
  if (host !== undefined && typeof host !== 'string') throw new InvalidArgError('host must be a string');
  return { kind: 'tcp', host, port };
}
