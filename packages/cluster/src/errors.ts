import { ClusterUnavailableError, PeerNotFoundError, RpcErrorCode } from '@proto/rpc';

export {
  AbortedError,
  ClusterUnavailableError,
  ConnectionClosedError,
  InvalidArgError,
  MethodNotFoundError,
  PeerNotFoundError,
  ProtoError,
  RemoteError,
  RequestTimeoutError,
} from '@proto/rpc';

/**
 * Stable codes a `@proto/cluster` user can meet: the cluster adds no codes of its own beyond the
 * two rpc defines for it (`ERR_PEER_NOT_FOUND`, `ERR_CLUSTER_UNAVAILABLE`); a call routed to
 * another node settles with the same codes as a local one. Branch on `err.code`.
 */
export const ClusterErrorCode = Object.freeze({ ...RpcErrorCode } as const);

/** Any code in {@link ClusterErrorCode}. */
export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

/** The error for a peer id no node holds. */
export function peerNotFound(peerId: string): PeerNotFoundError {
  return new PeerNotFoundError(`no node holds a peer ${peerId}`, peerId);
}

/** The error for a call that needs the cluster while it cannot be reached (`cause`: why). */
export function clusterUnavailable(cause?: unknown, message = 'the cluster is unavailable'): ClusterUnavailableError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new ClusterUnavailableError(`${message}${detail}`, cause === undefined ? undefined : { cause });
}
