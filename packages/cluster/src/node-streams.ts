import type { ClusterStreamOptions } from '@proto/rpc';
import { isItemSource, type ItemSource } from '@proto/rpc/internal';
import type { ClusterMessage, OutgoingMessage } from './envelope.js';
import { AbortedError, clusterUnavailable, InvalidArgError } from './errors.js';
import { DEFAULT_HIGH_WATER_MARK, type RemoteStream, RemoteStreams } from './remote-streams.js';
import type { Router } from './router.js';
import type { ServingNode } from './served-calls.js';
import { ServedStreams } from './served-streams.js';
import { errorFromWire } from './wire-errors.js';

/** What streams across nodes need from their node. */
export interface StreamingNode extends ServingNode {
  readonly available: boolean;
  readonly router: Router;
  /** Publish to another node's channel. @throws InvalidArgError when the message cannot be encoded. */
  publishTo(nodeId: string, message: OutgoingMessage): void;
}

/** Both sides of streams across nodes: the ones this node opened, and the ones it serves. */
export class NodeStreams {
  readonly #node: StreamingNode;
  readonly #remote: RemoteStreams;
  readonly #served: ServedStreams;

  constructor(node: StreamingNode) {
    this.#node = node;
    this.#remote = new RemoteStreams({
      credit: (stream, count) => node.reply(stream.nodeId, { t: 'sc', id: stream.id, c: count }),
      cancel: (stream) => node.reply(stream.nodeId, { t: 'sx', id: stream.id }),
    });
    this.#served = new ServedStreams(node);
  }

  /** `server.stream(peerId, ...)` for a peer on another node; failures end the iterator. */
  open(peerId: string, method: string, params: unknown, options: ClusterStreamOptions): RemoteStream {
    const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    const timeoutMs = options.timeoutMs ?? 0;
    const stream = this.#remote.open(peerId, method, highWaterMark, timeoutMs, options.signal);
    const signal = options.signal;
    if (signal?.aborted === true) {
      stream.fail(new AbortedError(`stream ${method} aborted before it was sent`, { cause: signal.reason }));
    } else if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1) {
      stream.fail(new InvalidArgError(`highWaterMark must be a positive integer, got ${String(highWaterMark)}`));
    } else if (options.input !== undefined && !isItemSource(options.input)) {
      stream.fail(new InvalidArgError('input must be an AsyncIterable or an Iterable'));
    } else if (!this.#node.available) {
      stream.fail(clusterUnavailable());
    } else {
      this.#route(stream, params, options.input);
    }
    return stream;
  }

  #route(stream: RemoteStream, params: unknown, input: ItemSource<unknown> | undefined): void {
    let route: string | Promise<string>;
    try {
      route = this.#node.router.resolve(stream.peerId);
    } catch (error) {
      stream.fail(error as Error);
      return;
    }
    const send = (nodeId: string): void => {
      stream.nodeId = nodeId;
      const open: OutgoingMessage = input === undefined
        ? { t: 'so', id: stream.id, to: stream.peerId, m: stream.method, hwm: stream.highWaterMark, v: params }
        : { t: 'so', id: stream.id, to: stream.peerId, m: stream.method, hwm: stream.highWaterMark, in: 1, v: params };
      try {
        this.#node.publishTo(nodeId, open);
      } catch (error) {
        stream.fail(error as Error);
        return;
      }
      stream.sent = true;
      // Pulled only within the credit the holding node grants (`ic`), none before it accepted.
      if (input !== undefined) stream.sendInput(input, this.#node);
    };
    if (typeof route === 'string') send(route);
    else route.then((nodeId) => send(nodeId), (error: Error) => stream.fail(error));
  }

  /** A stream message from `message.n`; false when it is not one. */
  handle(message: ClusterMessage): boolean {
    switch (message.t) {
      case 'so':
        this.#served.open(message);
        return true;
      case 'sc':
        this.#served.credit(message.n, message.id, message.c);
        return true;
      case 'sx':
        this.#served.cancel(message.n, message.id);
        return true;
      case 'ii':
        this.#served.inputItem(message.n, message.id, message.v);
        return true;
      case 'ie':
        this.#served.inputEnd(message.n, message.id);
        return true;
      case 'ic':
        this.#remote.get(message.id, message.n)?.inputCredit(message.c);
        return true;
      case 'si':
        this.#remote.get(message.id, message.n)?.item(message.v);
        return true;
      case 'se': {
        const stream = this.#remote.get(message.id, message.n);
        if (stream !== undefined) stream.fail(message.ok ? undefined : errorFromWire(message.err!, stream.method, stream.peerId));
        return true;
      }
      default:
        return false;
    }
  }

  /** `nodeId` is gone (undefined: all of them, or this node leaves): fail and close its streams. */
  nodeGone(nodeId: string | undefined, error: () => Error): void {
    this.#remote.failNode(nodeId, error);
    this.#served.abortNode(nodeId);
  }
}
