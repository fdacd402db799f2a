import {
  AbortedError,
  BufferOverflowError,
  ConnectionClosedError,
  FrameTooLargeError,
  InvalidArgError,
  NotConnectedError,
  NsErrorCode,
  ProtocolError,
  ProtoError,
  UnexpectedEofError,
} from '@proto/ns';

export {
  AbortedError,
  BufferOverflowError,
  ConnectionClosedError,
  FrameTooLargeError,
  InvalidArgError,
  NotConnectedError,
  ProtocolError,
  ProtoError,
  UnexpectedEofError,
};

/**
 * Every stable code an `@proto/rpc` user can meet, including the ones raised by the layers below
 * (re-exported so nobody has to import them). Branch on `err.code`, never on messages.
 */
export const RpcErrorCode = Object.freeze({
  ...NsErrorCode,
  AUTH_FAILED: 'ERR_AUTH_FAILED',
  AUTH_TIMEOUT: 'ERR_AUTH_TIMEOUT',
  REQUEST_TIMEOUT: 'ERR_REQUEST_TIMEOUT',
  METHOD_NOT_FOUND: 'ERR_METHOD_NOT_FOUND',
  INVALID_PARAMS: 'ERR_INVALID_PARAMS',
  INVALID_RESULT: 'ERR_INVALID_RESULT',
  OVERLOADED: 'ERR_OVERLOADED',
  REMOTE: 'ERR_REMOTE',
  KEEPALIVE_TIMEOUT: 'ERR_KEEPALIVE_TIMEOUT',
  RESULT_TOO_LARGE: 'ERR_RESULT_TOO_LARGE',
  PEER_NOT_FOUND: 'ERR_PEER_NOT_FOUND',
  CLUSTER_UNAVAILABLE: 'ERR_CLUSTER_UNAVAILABLE',
} as const);

/** Any code in {@link RpcErrorCode}. */
export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode];

/**
 * Authentication did not succeed: wrong password, unknown user, a server that could not prove it
 * holds the password, or a malformed handshake. `fatal` is `true` so a first `connect()` rejects
 * instead of retrying a password that will never work.
 */
export class AuthFailedError extends ProtoError {
  static override readonly code = RpcErrorCode.AUTH_FAILED;
  /** Always `true`: retrying the same credentials cannot succeed. */
  readonly fatal = true;
}

/** The peer did not complete the handshake within `authTimeoutMs`. */
export class AuthTimeoutError extends ProtoError {
  static override readonly code = RpcErrorCode.AUTH_TIMEOUT;
}

/** No response arrived within the request's `timeoutMs` (the peer was told to cancel). */
export class RequestTimeoutError extends ProtoError {
  static override readonly code = RpcErrorCode.REQUEST_TIMEOUT;
}

/** The remote side has no handler for the requested method. */
export class MethodNotFoundError extends ProtoError {
  static override readonly code = RpcErrorCode.METHOD_NOT_FOUND;
  /** The method that was asked for. */
  readonly method: string;
  constructor(message: string, method: string, options?: ErrorOptions) {
    super(message, options);
    this.method = method;
  }
}

/**
 * The remote side rejected the params against its contract. `data` holds zod's issues (path,
 * message, code for each problem) and `message` the readable summary from `z.prettifyError`.
 */
export class InvalidParamsError extends ProtoError {
  static override readonly code = RpcErrorCode.INVALID_PARAMS;
  /** zod's issue list, as sent by the remote side. */
  readonly data: unknown;
  constructor(message: string, data: unknown, options?: ErrorOptions) {
    super(message, options);
    this.data = data;
  }
}

/** A result failed the contract's result schema (only with `validateResults: true`). */
export class InvalidResultError extends ProtoError {
  static override readonly code = RpcErrorCode.INVALID_RESULT;
  /** zod's issue list. */
  readonly data: unknown;
  constructor(message: string, data: unknown, options?: ErrorOptions) {
    super(message, options);
    this.data = data;
  }
}

/** The remote side already runs `maxConcurrentRequests` requests for this connection. */
export class OverloadedError extends ProtoError {
  static override readonly code = RpcErrorCode.OVERLOADED;
}

/** The peer stopped answering: no traffic within `keepAlive.intervalMs + keepAlive.timeoutMs`. */
export class KeepAliveTimeoutError extends ProtoError {
  static override readonly code = RpcErrorCode.KEEPALIVE_TIMEOUT;
}

/**
 * The handler succeeded but its result is larger than the handling side may send in one frame
 * (its `maxFrameBytes`). The caller gets this instead of an answer; the handling side also reports
 * it on its `error` event. Send large data in parts (or raise `maxFrameBytes` on both sides).
 */
export class ResultTooLargeError extends ProtoError {
  static override readonly code = RpcErrorCode.RESULT_TOO_LARGE;
}

/**
 * No node holds a peer with this id (`server.send`/`request` to a peer that is not connected, or
 * left), detected at once rather than by a timeout.
 */
export class PeerNotFoundError extends ProtoError {
  static override readonly code = RpcErrorCode.PEER_NOT_FOUND;
  /** The id that was asked for. */
  readonly peerId: string;
  constructor(message: string, peerId: string, options?: ErrorOptions) {
    super(message, options);
    this.peerId = peerId;
  }
}

/**
 * The cluster (its Redis, or whatever engine the adapter uses) cannot be reached: a call that
 * needs another node fails at once with this; everything local keeps working.
 */
export class ClusterUnavailableError extends ProtoError {
  static override readonly code = RpcErrorCode.CLUSTER_UNAVAILABLE;
}

/**
 * A remote handler failed. `remoteCode` is the code the handler gave its {@link RpcError}, or
 * `'INTERNAL'` for any other throw (whose details stay on the remote side).
 */
export class RemoteError extends ProtoError {
  static override readonly code = RpcErrorCode.REMOTE;
  /** The handler's own code, or `'INTERNAL'`. */
  readonly remoteCode: string;
  /** The handler's `data`, as JSON round-tripped it. */
  readonly data: unknown;
  constructor(remoteCode: string, message: string, data?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.remoteCode = remoteCode;
    this.data = data;
  }
}

const kRpcError = Symbol.for('@proto/rpc-error');

/**
 * Throw this from a handler to send a meaningful failure to the caller: it arrives as a
 * {@link RemoteError} with `remoteCode === code`, the same `message`, and `data` (any JSON value).
 *
 * @example
 * rpc.handle('users::get', ({ id }) => {
 *   throw new RpcError('NOT_FOUND', `no user ${id}`, { id });
 * });
 */
export class RpcError extends Error {
  /** Application code chosen by the handler, sent to the caller as `remoteCode`. */
  readonly code: string;
  /** Any JSON value sent along to the caller. */
  readonly data: unknown;

  constructor(code: string, message: string, data?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
    Object.defineProperty(this, kRpcError, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kRpcError] === true;
  }
}
