import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

/**
 * `node:diagnostics_channel` channels published by `@proto/rpc`. Messages are only built when a
 * channel has subscribers, so an unobserved process pays a property read per request and per
 * event. `NODE_DEBUG=proto` logging is one subscriber of these channels.
 */
export const RpcChannels = {
  /** A handshake finished: {@link AuthMessage}. */
  auth: 'proto:rpc:auth',
  /** A request went out or came in: {@link RequestStartMessage}. */
  requestStart: 'proto:rpc:request:start',
  /** A request finished successfully: {@link RequestEndMessage}. */
  requestEnd: 'proto:rpc:request:end',
  /** A request failed (any reason, including timeout and abort): {@link RequestErrorMessage}. */
  requestError: 'proto:rpc:request:error',
  /** Keepalive found the other side unresponsive: {@link TimeoutMessage}. */
  timeout: 'proto:rpc:timeout',
  /**
   * An error a client or server reported (`error` event) or could not report (no `error`
   * listener, or an answer, cancel or ping that could not be sent): {@link ErrorMessage}.
   */
  error: 'proto:rpc:error',
  /** A stream was opened or accepted: `StreamStartMessage`. */
  streamStart: 'proto:rpc:stream:start',
  /** A stream is over on the wire, however it ended: `StreamEndMessage`. */
  streamEnd: 'proto:rpc:stream:end',
} as const;

/** Which end of a request a message describes. */
export type RequestDirection = 'outgoing' | 'incoming';

/** Which object published: an `RpcServer` (about one of its clients) or an `RpcClient`. */
export type RpcSide = 'client' | 'server';

/** Published on `proto:rpc:auth`. */
export interface AuthMessage {
  /** `'server'` when a server checked a client, `'client'` when a client checked a server. */
  readonly side: RpcSide;
  readonly address: string | undefined;
  readonly ok: boolean;
  /** Why it failed (see `AuthFailureReason`). */
  readonly reason?: string;
  /** Peer id on the server side once authenticated. */
  readonly peerId?: string;
}

/** Published on `proto:rpc:request:start`. */
export interface RequestStartMessage {
  readonly direction: RequestDirection;
  readonly id: number;
  readonly method: string;
  /**
   * The id of the peer the request went to or came from: on a server the client's id (as in
   * `server.peers`), on a client the client's own id for its link (`client.peer.id`).
   */
  readonly peerId: string;
}

/** Published on `proto:rpc:request:end`. */
export interface RequestEndMessage extends RequestStartMessage {
  /**
   * Time from sending (or receiving) the request to its end. Undefined only for a request that
   * started while no request channel had a subscriber (the clock is read only when someone watches).
   */
  readonly durationMs: number | undefined;
}

/** Published on `proto:rpc:request:error`. */
export interface RequestErrorMessage extends RequestStartMessage {
  /** As in {@link RequestEndMessage}. */
  readonly durationMs: number | undefined;
  readonly error: Error;
}

/** Published on `proto:rpc:timeout`. */
export interface TimeoutMessage {
  readonly side: RpcSide;
  /** The link that timed out, named as in {@link RequestStartMessage.peerId} (on a client, `client.peer.id`). */
  readonly peerId: string;
}

/** Published on `proto:rpc:error`. */
export interface ErrorMessage {
  readonly side: RpcSide;
  /** The peer it concerns, when there is one, named as in {@link RequestStartMessage.peerId}. */
  readonly peerId: string | undefined;
  readonly error: Error;
  /** Whether it was emitted as an `error` event (false: nobody listened, or it was only logged). */
  readonly emitted: boolean;
  /** What the library was doing, for errors it could not emit (`'send cancel'`, ...). */
  readonly context?: string;
}

/** @internal */
export const authChannel = diagnosticsChannel.channel(RpcChannels.auth);
/** @internal */
const requestStartChannel = diagnosticsChannel.channel(RpcChannels.requestStart);
/** @internal */
const requestEndChannel = diagnosticsChannel.channel(RpcChannels.requestEnd);
/** @internal */
const requestErrorChannel = diagnosticsChannel.channel(RpcChannels.requestError);
/** @internal */
export const timeoutChannel = diagnosticsChannel.channel(RpcChannels.timeout);
/** @internal */
const errorChannel = diagnosticsChannel.channel(RpcChannels.error);

/**
 * @internal The start of a request, for its `durationMs`: `performance.now()` when any request
 * channel has a subscriber, else 0 (an unwatched request costs no clock read).
 */
export function requestStartedAt(): number {
  return requestStartChannel.hasSubscribers || requestEndChannel.hasSubscribers || requestErrorChannel.hasSubscribers
    ? performance.now()
    : 0;
}

function durationSince(startedAt: number): number | undefined {
  return startedAt === 0 ? undefined : performance.now() - startedAt;
}

/** @internal */
export function publishStart(direction: RequestDirection, id: number, method: string, peerId: string): void {
  if (requestStartChannel.hasSubscribers) requestStartChannel.publish({ direction, id, method, peerId });
}

/**
 * @internal Publish the end (`error` undefined) or the failure of a request, whether or not
 * anyone watched its start.
 */
export function publishEnd(
  direction: RequestDirection,
  id: number,
  method: string,
  peerId: string,
  startedAt: number,
  error: Error | undefined,
): void {
  if (error === undefined) {
    if (requestEndChannel.hasSubscribers) {
      requestEndChannel.publish({ direction, id, method, peerId, durationMs: durationSince(startedAt) });
    }
  } else if (requestErrorChannel.hasSubscribers) {
    requestErrorChannel.publish({ direction, id, method, peerId, durationMs: durationSince(startedAt), error });
  }
}

/** @internal an error was reported on `error` (emitted) or could not be (see {@link ErrorMessage}). */
export function publishError(side: RpcSide, peerId: string | undefined, error: Error, emitted: boolean, context?: string): void {
  if (!errorChannel.hasSubscribers) return;
  const message: ErrorMessage = context === undefined ? { side, peerId, error, emitted } : { side, peerId, error, emitted, context };
  errorChannel.publish(message);
}
