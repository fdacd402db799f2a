import type { NsSocket } from '@proto/ns';
import { Caller } from './caller.js';
import { publishError } from './diagnostics.js';
import { BufferOverflowError, ProtocolError } from './errors.js';
import { InboundGate } from './inbound-gate.js';
import { KeepAlive, type KeepAliveHost, type KeepAliveOptions } from './keepalive.js';
import type { LinkContext, LinkOwner } from './link-owner.js';
import { RpcMessageType } from './message-types.js';
import { readU32, u32Body } from './messages.js';
import { type PeerLink, RpcPeer } from './peer.js';
import type { RequestOptions } from './request-options.js';
import type { StreamOptions } from './stream-options.js';
import { Responder } from './responder.js';
import { STREAM_TYPE_MAX, STREAM_TYPE_MIN } from './stream-messages.js';
import { type StreamLinkHost, StreamSession } from './stream-session.js';

/**
 * One authenticated connection: its peer, the requests it sends ({@link Caller}) and serves
 * ({@link Responder}), keepalive, the dispatch of rpc messages, and the waiter of a graceful close.
 * A Link is made when a handshake succeeds (reconnects make new ones), so an answer can only ever
 * settle a request sent on the same connection.
 */
export class Link implements LinkContext, PeerLink, KeepAliveHost, StreamLinkHost {
  readonly socket: NsSocket;
  readonly owner: LinkOwner;
  readonly peer: RpcPeer;
  readonly keepAlive: KeepAlive | undefined;
  // Made on first use, so an idle link stays small (a server's links rarely send requests; an idle
  // peer sends none): ~400 bytes a peer.
  #caller: Caller | undefined = undefined;
  #responder: Responder | undefined = undefined;
  /** Made by the first stream either way (see {@link Link.streams}): most links never have one. */
  #streams: StreamSession | undefined = undefined;
  /** Inbound backpressure (reading pauses while our answers to the peer are past the high-water mark): made by the first pause. */
  #gate: InboundGate | undefined = undefined;
  open = true;
  closing = false;
  #idleWaiter: (() => void) | undefined;

  constructor(socket: NsSocket, owner: LinkOwner, keepAlive: Required<KeepAliveOptions> | false, peerId: string, username: string) {
    this.socket = socket;
    this.owner = owner;
    this.keepAlive = keepAlive === false ? undefined : new KeepAlive(this, keepAlive);
    this.peer = new RpcPeer(this, peerId, username);
    this.keepAlive?.start();
  }

  /** The requests this link sends; made by the first. */
  get caller(): Caller {
    return (this.#caller ??= new Caller(this));
  }

  /** The requests this link serves; made by the first. */
  get responder(): Responder {
    return (this.#responder ??= new Responder(this));
  }

  /** Inbound backpressure of this link; made by the first answer past the high-water mark. */
  get gate(): InboundGate {
    return (this.#gate ??= new InboundGate(this));
  }

  /** Streams of this link, both ways; made on first use, so a link without streams stays small. */
  get streams(): StreamSession {
    return (this.#streams ??= new StreamSession(this, this.owner));
  }

  /** LinkContext: the streams if any were ever made (checks that must not make them). */
  get openedStreams(): StreamSession | undefined {
    return this.#streams;
  }

  get requestsOut(): number {
    return this.#caller?.sent ?? 0;
  }
  get requestsIn(): number {
    return this.#responder?.received ?? 0;
  }
  get inFlight(): number {
    return this.#caller?.table.size ?? 0;
  }
  get handling(): number {
    return this.#responder?.calls.size ?? 0;
  }
  get rttMs(): number | undefined {
    return this.keepAlive?.rttMs;
  }
  get readingPaused(): boolean {
    return this.#gate?.paused ?? false;
  }
  get openStreams(): number {
    return this.#streams?.openStreams ?? 0;
  }
  get itemsIn(): number {
    return this.#streams?.itemsIn ?? 0;
  }
  get itemsOut(): number {
    return this.#streams?.itemsOut ?? 0;
  }

  /** PeerLink: open a stream on this link. */
  stream<T>(method: string, params: unknown, options: StreamOptions | undefined): AsyncIterableIterator<T> {
    return this.streams.open<T>(method, params, options);
  }

  /** StreamLinkHost: the next id of the id space requests and streams share. */
  nextOutgoingId(): number {
    return this.caller.table.nextId();
  }

  /** StreamLinkHost */
  incomingRequestHeld(id: number): boolean {
    return this.#responder?.calls.get(id) !== undefined;
  }

  /** PeerLink: send a request on this link. */
  request(method: string, params: unknown, options: RequestOptions | undefined): Promise<unknown> {
    return this.caller.request(method, params, options);
  }

  /** An rpc message arrived on this link. Throws ProtocolError on bad input. */
  onMessage(type: number, body: Buffer): void {
    const gate = this.#gate;
    if (gate === undefined || gate.admit(type, body)) this.dispatch(type, body);
  }

  /** GateHost: handles one message, past the gate. Throws ProtocolError on bad input. */
  dispatch(type: number, body: Buffer): void {
    switch (type) {
      case RpcMessageType.REQUEST:
        return this.responder.onRequest(body);
      case RpcMessageType.RESULT:
        return this.caller.onResult(body);
      case RpcMessageType.ERROR:
        return this.caller.onError(body);
      case RpcMessageType.CANCEL:
        return this.responder.onCancel(body);
      case RpcMessageType.PING:
        readU32(body, 4);
        this.socket.sendExtension(RpcMessageType.PONG, body);
        return;
      case RpcMessageType.PONG: {
        // Validated even with keepalive off: a malformed PONG is a protocol error either way.
        const nonce = readU32(body, 4);
        this.keepAlive?.pong(nonce);
        return;
      }
      default:
        if (type >= STREAM_TYPE_MIN && type <= STREAM_TYPE_MAX) return this.streams.onMessage(type, body);
        throw new ProtocolError(`unexpected rpc message type 0x${type.toString(16)} on an open link`);
    }
  }

  /** The link is gone: settle everything, stop timers. Safe to call more than once. */
  closed(error: Error | undefined): void {
    if (!this.open) return;
    this.open = false;
    this.keepAlive?.stop();
    this.#gate?.closed();
    this.#caller?.closed(error);
    this.#responder?.closed(error);
    this.#streams?.closed(error);
    this.settled();
  }

  /**
   * KeepAliveHost. While reading is paused for backpressure, a pong may sit unread in the kernel:
   * then the bytes the peer took from us count as life too (a peer reading its answers is alive;
   * one that takes nothing for the keepalive deadline is dead, or stuck, all the same).
   */
  keepAliveBytesIn(): number {
    const socket = this.socket;
    const stats = socket.stats;
    return this.#gate?.readingPaused === true ? stats.bytesIn + stats.bytesOut - socket.bufferedBytes : stats.bytesIn;
  }

  /** LinkContext: an answer left the outbound buffer past the high-water mark. */
  answerBackpressured(): void {
    this.gate.backpressured();
  }

  /**
   * LinkContext: an answer could not be buffered (past `maxBufferedBytes`). Dropping it would break
   * the promise of one answer per request, so the link fails as a whole: the peer's requests in
   * flight settle with ERR_CONNECTION_CLOSED on its side. In a resumable session the session ends
   * too (resuming it would resend everything but the answer that did not fit).
   */
  answerOverflowed(what: string, cause: BufferOverflowError): void {
    if (!this.open) return;
    const error = new BufferOverflowError(
      `${what} does not fit the outbound buffer (maxBufferedBytes): the peer is not reading its answers; closing the link instead of dropping it`,
      { cause },
    );
    this.owner.reportError(error, this.peer);
    // Dead from now on: the calls still running are cancelled, their answers go nowhere.
    this.closed(error);
    const socket = this.socket;
    if (socket.inSession) socket.destroy(error);
    else socket.dropLink(error);
  }

  /** KeepAliveHost */
  keepAliveSendPing(seq: number): void {
    try {
      this.socket.sendExtension(RpcMessageType.PING, u32Body(seq));
    } catch (error) {
      publishError(this.owner.side, this.peer.id, error as Error, false, 'send a keepalive ping');
    }
  }

  /** KeepAliveHost */
  keepAliveTimedOut(): void {
    this.owner.linkTimedOut(this.peer, this.socket);
  }

  /** Resolves once no request is in flight in either direction (or the link closed). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#idleWaiter;
      this.#idleWaiter = previous === undefined ? resolve : () => (previous(), resolve());
    });
  }

  /** LinkContext: a request settled; wake the close waiter once nothing is in flight. */
  settled(): void {
    if (this.#idleWaiter === undefined || !this.#isIdle()) return;
    const waiter = this.#idleWaiter;
    this.#idleWaiter = undefined;
    waiter();
  }

  #isIdle(): boolean {
    return this.handling === 0 && this.inFlight === 0 && (this.#streams?.openStreams ?? 0) === 0;
  }
}
