import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { RpcChannels } from './diagnostics.js';
import type { StreamDirection, StreamRecord } from './stream-wire.js';

/** Published on `proto:rpc:stream:start`. */
export interface StreamStartMessage {
  readonly direction: StreamDirection;
  readonly id: number;
  readonly method: string;
  /** The id of the peer the stream goes to or comes from. */
  readonly peerId: string;
}

/** Published on `proto:rpc:stream:end`, once per stream that started. */
export interface StreamEndMessage extends StreamStartMessage {
  readonly durationMs: number;
  /** Items received on this stream (its output when outgoing, its input when incoming). */
  readonly itemsIn: number;
  /** Items sent on this stream. */
  readonly itemsOut: number;
  /**
   * How it ended for its user, if not normally: the remote error, `ERR_ABORTED`,
   * `ERR_REQUEST_TIMEOUT`, `ERR_CONNECTION_CLOSED`... (a `break` ends it without an error).
   */
  readonly error?: Error;
}

const startChannel = diagnosticsChannel.channel(RpcChannels.streamStart);
const endChannel = diagnosticsChannel.channel(RpcChannels.streamEnd);

/** @internal */
export function publishStreamStart(direction: StreamDirection, id: number, method: string, peerId: string): void {
  if (startChannel.hasSubscribers) startChannel.publish({ direction, id, method, peerId } satisfies StreamStartMessage);
}

/** @internal */
export function publishStreamEnd(stream: StreamRecord, peerId: string, error: Error | undefined): void {
  if (!endChannel.hasSubscribers) return;
  const message: StreamEndMessage = {
    direction: stream.direction,
    id: stream.id,
    method: stream.method,
    peerId,
    durationMs: performance.now() - stream.startedAt,
    itemsIn: stream.itemsIn,
    itemsOut: stream.itemsOut,
    ...(error === undefined ? {} : { error }),
  };
  endChannel.publish(message);
}
