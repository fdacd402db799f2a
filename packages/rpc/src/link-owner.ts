import type { NsSocket } from '@proto/ns';
import type { ContractDefinition } from './contract.js';
import type { BufferOverflowError } from './errors.js';
import type { RpcSide } from './diagnostics.js';
import type { Handler } from './inbound-call.js';
import type { RpcPeer } from './peer.js';
import type { StreamOwner, StreamSession } from './stream-session.js';

/** What every link of a client or server shares: handlers, contract, limits, error reporting. */
export interface LinkOwner extends StreamOwner {
  /** Which kind of object owns the links (for diagnostics). */
  readonly side: RpcSide;
  readonly handlers: ReadonlyMap<string, Handler>;
  /** Schemas of the methods this side handles: params of incoming requests are validated. */
  readonly handled: ContractDefinition | undefined;
  /** Schemas of the methods this side calls: results are validated with `validateResults`. */
  readonly called: ContractDefinition | undefined;
  readonly validateResults: boolean;
  readonly maxConcurrentRequests: number;
  readonly requestTimeoutMs: number;
  /** A handler threw something that is not an RpcError, or an answer could not be sent. */
  reportError(error: Error, peer: RpcPeer): void;
  /** Keepalive declared `peer` dead; its link (on `socket`) is about to be dropped. */
  linkTimedOut(peer: RpcPeer, socket: NsSocket): void;
}

/**
 * The side of a link its caller and responder see: where to write, whom they serve, and the
 * link's state. Implemented by `Link`; kept here so neither half imports the link back.
 */
export interface LinkContext {
  readonly socket: NsSocket;
  readonly peer: RpcPeer;
  readonly owner: LinkOwner;
  /** Authenticated and not closed. */
  readonly open: boolean;
  /** Graceful close under way: new requests are refused both ways. */
  readonly closing: boolean;
  /** The streams of the link, both ways (they share the request id space); made on first use. */
  readonly streams: StreamSession;
  /** The streams if they were ever made: for checks on every request, which must not make them. */
  readonly openedStreams: StreamSession | undefined;
  /** A request in either direction settled: the close waiter may be due. */
  settled(): void;
  /** An answer's send returned `false`: stop reading requests until the answers drained. */
  answerBackpressured(): void;
  /** An answer could not be buffered at all: the link fails as a whole (no answer is dropped). */
  answerOverflowed(what: string, cause: BufferOverflowError): void;
}
