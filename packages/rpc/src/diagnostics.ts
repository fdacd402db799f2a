import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { debuglog } from 'node:util';
import type { RpcPeer } from './peer.js';

/**
 * `node:diagnostics_channel` channels published by `@proto/rpc`. Messages are only built when a
 * channel has subscribers, so an unobserved process pays one property read per request.
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
  /** A stream was opened or accepted: `StreamStartMessage`. */
  streamStart: 'proto:rpc:stream:start',
  /** A stream is over on the wire, however it ended: `StreamEndMessage`. */
  streamEnd: 'proto:rpc:stream:end',
} as const;

/** Which end of a request a message describes. */
export type RequestDirection = 'outgoing' | 'incoming';

/** Published on `proto:rpc:auth`. */
export interface AuthMessage {
  /** `'server'` when a server checked a client, `'client'` when a client checked a server. */
  readonly side: 'client' | 'server';
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
  /** The peer's id (server side) or undefined (client side). */
  readonly peerId: string | undefined;
}

/** Published on `proto:rpc:request:end`. */
export interface RequestEndMessage extends RequestStartMessage {
  readonly durationMs: number;
}

/** Published on `proto:rpc:request:error`. */
export interface RequestErrorMessage extends RequestStartMessage {
  readonly durationMs: number;
  readonly error: Error;
}

/** @internal */
export const authChannel = diagnosticsChannel.channel(RpcChannels.auth);
/** @internal */
export const requestStartChannel = diagnosticsChannel.channel(RpcChannels.requestStart);
/** @internal */
export const requestEndChannel = diagnosticsChannel.channel(RpcChannels.requestEnd);
/** @internal */
export const requestErrorChannel = diagnosticsChannel.channel(RpcChannels.requestError);

/** @internal `NODE_DEBUG=proto` logging. */
export const debug = debuglog('proto');

/** @internal */
export function publishStart(direction: RequestDirection, id: number, method: string, peer: RpcPeer): void {
  requestStartChannel.publish({ direction, id, method, peerId: peer.id });
}

/** @internal */
export function publishEnd(
  direction: RequestDirection,
  id: number,
  method: string,
  peer: RpcPeer,
  startedAt: number,
  error: Error | undefined,
): void {
  const durationMs = startedAt === 0 ? 0 : performance.now() - startedAt;
  if (error === undefined) {
    if (requestEndChannel.hasSubscribers) requestEndChannel.publish({ direction, id, method, peerId: peer.id, durationMs });
  } else if (requestErrorChannel.hasSubscribers) {
    requestErrorChannel.publish({ direction, id, method, peerId: peer.id, durationMs, error });
  }
}
