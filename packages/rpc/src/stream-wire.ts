import type { FramePayload } from '@proto/ns';
import type { WireError } from './messages.js';
import type { RpcPeer } from './peer.js';

/** Which end of a stream: `outgoing` we opened it (we consume its items), `incoming` we serve it. */
export type StreamDirection = 'outgoing' | 'incoming';

/** What the session knows of each stream it holds (for diagnostics and stats). */
export interface StreamRecord {
  readonly id: number;
  readonly direction: StreamDirection;
  readonly method: string;
  /** `performance.now()` at the open. */
  readonly startedAt: number;
  readonly itemsIn: number;
  readonly itemsOut: number;
}

/**
 * What one stream asks of the link it lives on (implemented by the link's stream session). Keeps
 * the stream files free of the session, and the session the one place that writes to the socket.
 */
export interface StreamWire {
  readonly peer: RpcPeer;
  /** Send a stream message; framing's backpressure boolean. Throws as `sendExtension`. */
  send(type: number, body: FramePayload): boolean;
  /** Largest frame the link sends now (the socket's `maxFrameBytes`). */
  readonly maxFrameBytes: number;
  /** Send a control message (CREDIT, END...); a failure (the link is going) is published, not thrown. */
  post(type: number, body: FramePayload): void;
  /** Send CANCEL for one of our streams (errors are published, not thrown). */
  sendCancel(id: number): void;
  /** Send the ERROR that ends a stream we serve (errors are published, not thrown). */
  sendError(id: number, kind: number, wire: WireError): void;
  /** Resolves once the socket drained (or closed). Never rejects; shared by every stream. */
  drained(): Promise<void>;
  /** A handler failed with something other than an RpcError, or an item could not be sent. */
  reportError(error: Error): void;
  /** The stream is over on the wire: its id is free, `error` is how it ended for its user. */
  released(stream: StreamRecord, error: Error | undefined): void;
  /** An item went out (stats). */
  countOut(): void;
}
