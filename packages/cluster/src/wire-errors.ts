import {
  AbortedError,
  ClusterUnavailableError,
  ConnectionClosedError,
  InvalidArgError,
  InvalidParamsError,
  MethodNotFoundError,
  NotConnectedError,
  OverloadedError,
  PeerNotFoundError,
  ProtoError,
  RemoteError,
  RequestTimeoutError,
  RpcErrorCode,
} from '@proto/rpc';

/**
 * How the node holding a peer tells the caller's node why a request failed: the error's code,
 * message and the fields its class carries. Never a stack or a cause: those stay on the node
 * where they happened (reported through its server's `error` event).
 */
export interface WireError {
  /** `err.code`. */
  readonly c: string;
  /** `err.message`. */
  readonly m: string;
  /** RemoteError's `remoteCode`. */
  readonly r?: string;
  /** RemoteError's / InvalidParamsError's `data`. */
  readonly d?: unknown;
}

/** Whether `value` has the shape of a {@link WireError}. */
export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e.c === 'string' && typeof e.m === 'string' && (e.r === undefined || typeof e.r === 'string');
}

const INTERNAL: WireError = { c: RpcErrorCode.REMOTE, m: 'Internal error', r: 'INTERNAL' };

/**
 * The wire form of what a local request rejected with. An error that is not one of rpc's own
 * becomes `INTERNAL`, as a handler's unexpected throw does.
 */
export function errorToWire(error: unknown): WireError {
  if (error instanceof RemoteError) return { c: error.code, m: error.message, r: error.remoteCode, d: error.data };
  if (error instanceof InvalidParamsError) return { c: error.code, m: error.message, d: error.data };
  if (error instanceof ProtoError && KNOWN.has(error.code)) return { c: error.code, m: error.message };
  return INTERNAL;
}

/** The error the caller sees for a wire error; `method` and `peerId` name the request. */
export function errorFromWire(wire: WireError, method: string, peerId: string): Error {
  switch (wire.c) {
    case RpcErrorCode.REMOTE:
      return new RemoteError(wire.r ?? 'INTERNAL', wire.m, wire.d);
    case RpcErrorCode.INVALID_PARAMS:
      return new InvalidParamsError(wire.m, wire.d);
    case RpcErrorCode.METHOD_NOT_FOUND:
      return new MethodNotFoundError(wire.m, method);
    case RpcErrorCode.PEER_NOT_FOUND:
      return new PeerNotFoundError(wire.m, peerId);
    default: {
      const make = SIMPLE[wire.c];
      return make === undefined ? new RemoteError('INTERNAL', 'Internal error') : make(wire.m);
    }
  }
}

const SIMPLE: Partial<Record<string, (message: string) => Error>> = {
  [RpcErrorCode.OVERLOADED]: (m) => new OverloadedError(m),
  [RpcErrorCode.REQUEST_TIMEOUT]: (m) => new RequestTimeoutError(m),
  [RpcErrorCode.ABORTED]: (m) => new AbortedError(m),
  [RpcErrorCode.CONNECTION_CLOSED]: (m) => new ConnectionClosedError(m),
  [RpcErrorCode.NOT_CONNECTED]: (m) => new NotConnectedError(m),
  [RpcErrorCode.INVALID_ARG]: (m) => new InvalidArgError(m),
  [RpcErrorCode.CLUSTER_UNAVAILABLE]: (m) => new ClusterUnavailableError(m),
};

const KNOWN = new Set<string>([RpcErrorCode.METHOD_NOT_FOUND, RpcErrorCode.PEER_NOT_FOUND, ...Object.keys(SIMPLE)]);
