import { connect as connectNsSocket, type NsSocket } from '@proto/ns';
import { RpcClient } from '@proto/rpc';
import { formatAddress } from './address.js';
import { ConnectFailure } from './errors.js';
import type { Target } from './target.js';

function endpoint(target: Target): { host: string; port: number } | { path: string } {
  const address = target.address;
  return address.transport === 'unix' ? { path: address.path } : { host: address.host, port: address.port };
}

/**
 * Connect and authenticate an {@link RpcClient} (within `target.connectTimeoutMs`). Requests give
 * their own timeouts.
 * @throws ConnectFailure (exit 3) wrapping the reason: refused, TLS, `ERR_AUTH_FAILED`, ...
 */
export async function connectRpc(target: Target): Promise<RpcClient> {
  const client = new RpcClient({
    ...endpoint(target),
    ...(target.tls === undefined ? {} : { tls: target.tls }),
    password: target.password ?? '',
    ...(target.username === undefined ? {} : { username: target.username }),
    connectTimeoutMs: target.connectTimeoutMs,
    authTimeoutMs: target.connectTimeoutMs,
  });
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    throw new ConnectFailure(formatAddress(target.address), error);
  }
  return client;
}

/**
 * Connect to a plain ns server (`--ns`).
 * @throws ConnectFailure (exit 3) wrapping the reason.
 */
export async function connectNs(target: Target): Promise<NsSocket> {
  try {
    return await connectNsSocket({
      ...endpoint(target),
      ...(target.tls === undefined ? {} : { tls: target.tls }),
      connectTimeoutMs: target.connectTimeoutMs,
    });
  } catch (error) {
    throw new ConnectFailure(formatAddress(target.address), error);
  }
}
