import type { StreamOpenMessage } from './envelope.js';
import { ProtocolError } from '@proto/rpc';
import { toError } from '@proto/rpc/internal';
import { AbortedError, ConnectionClosedError, MethodNotFoundError, peerNotFound, ProtoError } from './errors.js';
import { InputFeed } from './input-feed.js';
import type { ServingNode } from './served-calls.js';
import { errorToWire } from './wire-errors.js';

interface ServedStream {
  readonly nodeId: string;
  readonly id: number;
  readonly local: AsyncIterableIterator<unknown>;
  /** Aborted on cancel: the local stream cancels on the peer's link even while an item is awaited. */
  readonly controller: AbortController;
  /** Items the caller's node still accepts. */
  credit: number;
  /** A `next()` on the local stream is under way. */
  pulling: boolean;
  /** Cancelled or ended: nothing more is sent. */
  closed: boolean;
  /** The caller's input, when it sends one. */
  readonly input: InputFeed | undefined;
}

function key(nodeId: string, id: number): string {
  return `${nodeId}\n${id}`;
}

/**
 * Streams other nodes opened on this node's peers. Each is a local `server.stream` whose next
 * item is pulled only while the calling node has granted credit, so a slow consumer on the other
 * node pauses the peer's generator here too; a cancel (or the calling node dying) closes the local
 * stream with `return()`, which cancels it on the peer's link.
 */
export class ServedStreams {
  readonly #node: ServingNode;
  readonly #streams = new Map<string, ServedStream>();

  constructor(node: ServingNode) {
    this.#node = node;
  }

  get size(): number {
    return this.#streams.size;
  }

  open(message: StreamOpenMessage): void {
    const { n: nodeId, id } = message;
    const streamLocal = this.#node.host.streamLocal;
    if (this.#node.draining) return this.#fail(nodeId, id, new ConnectionClosedError('the server is shutting down'));
    if (!this.#node.isMine(message.to)) return this.#fail(nodeId, id, peerNotFound(message.to));
    if (streamLocal === undefined) return this.#fail(nodeId, id, new MethodNotFoundError('this server has no streams', message.m));
    const controller = new AbortController();
    const input = message.in === 1 ? new InputFeed((count) => this.#node.reply(nodeId, { t: 'ic', id, c: count })) : undefined;
    let local: AsyncIterableIterator<unknown>;
    try {
      const options = { highWaterMark: message.hwm, signal: controller.signal, ...(input === undefined ? {} : { input }) };
      local = streamLocal.call(this.#node.host, message.to, message.m, message.v, options);
    } catch (error) {
      return this.#fail(nodeId, id, error);
    }
    const stream: ServedStream = { nodeId, id, local, controller, credit: message.hwm, pulling: false, closed: false, input };
    this.#streams.set(key(nodeId, id), stream);
    input?.start();
    void this.#pump(stream);
  }

  /** More credit from the calling node. */
  credit(nodeId: string, id: number, count: number): void {
    const stream = this.#streams.get(key(nodeId, id));
    if (stream === undefined) return;
    stream.credit += count;
    if (!stream.pulling) void this.#pump(stream);
  }

  /** An input item from the calling node; past the credit granted, the stream fails. */
  inputItem(nodeId: string, id: number, value: unknown): void {
    const stream = this.#streams.get(key(nodeId, id));
    if (stream?.input === undefined || stream.input.push(value)) return;
    this.#close(stream);
    this.#fail(nodeId, id, new ProtocolError(`input of stream ${id} sent past the credit granted`));
  }

  /** The calling node's input finished. */
  inputEnd(nodeId: string, id: number): void {
    this.#streams.get(key(nodeId, id))?.input?.end();
  }

  /** The calling node cancelled. */
  cancel(nodeId: string, id: number): void {
    const stream = this.#streams.get(key(nodeId, id));
    if (stream !== undefined) this.#close(stream);
  }

  /** The calling node is gone (`nodeId` undefined: every node). */
  abortNode(nodeId: string | undefined): void {
    for (const stream of [...this.#streams.values()]) if (nodeId === undefined || stream.nodeId === nodeId) this.#close(stream);
  }

  async #pump(stream: ServedStream): Promise<void> {
    stream.pulling = true;
    try {
      while (!stream.closed && stream.credit > 0) {
        const result = await stream.local.next();
        if (stream.closed) return;
        if (result.done === true) {
          this.#streams.delete(key(stream.nodeId, stream.id));
          stream.closed = true;
          stream.input?.close();
          this.#node.reply(stream.nodeId, { t: 'se', id: stream.id, ok: true, err: undefined });
          return;
        }
        stream.credit--;
        this.#node.reply(stream.nodeId, { t: 'si', id: stream.id, v: result.value });
      }
    } catch (error) {
      if (stream.closed) return;
      this.#streams.delete(key(stream.nodeId, stream.id));
      stream.closed = true;
      stream.input?.close();
      this.#fail(stream.nodeId, stream.id, error);
    } finally {
      stream.pulling = false;
    }
  }

  #close(stream: ServedStream): void {
    this.#streams.delete(key(stream.nodeId, stream.id));
    if (stream.closed) return;
    stream.closed = true;
    stream.input?.close();
    stream.controller.abort(new AbortedError('the caller cancelled the stream'));
    stream.local.return?.().catch(() => {});
  }

  #fail(nodeId: string, id: number, error: unknown): void {
    if (!(error instanceof ProtoError)) this.#node.host.reportError(toError(error));
    this.#node.reply(nodeId, { t: 'se', id, ok: false, err: errorToWire(error) });
  }
}
