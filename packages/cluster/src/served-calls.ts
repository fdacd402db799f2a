import type { ClusterHost } from '@proto/rpc';
import { toError } from '@proto/rpc/internal';
import type { OutgoingMessage, RequestMessage, SendMessage } from './envelope.js';
import type { ClusterStats } from './stats.js';
import { ConnectionClosedError, PeerNotFoundError, ProtoError } from './errors.js';
import { errorToWire } from './wire-errors.js';

/** What serving calls from other nodes needs from the node. */
export interface ServingNode {
  readonly host: ClusterHost;
  readonly stats: ClusterStats;
  /** The server is closing: new calls are refused. */
  readonly draining: boolean;
  /** Whether a peer id is one of this node's (this node id and incarnation). */
  isMine(peerId: string): boolean;
  /** Publish a message to another node. */
  reply(nodeId: string, message: OutgoingMessage): void;
}

function key(nodeId: string, id: number): string {
  return `${nodeId}\n${id}`;
}

/** A request being served; `controller` only when it can be cancelled from here. */
interface Served {
  readonly nodeId: string;
  readonly controller: AbortController | undefined;
}

/**
 * Requests other nodes routed to this node's peers, while their local requests run, keyed by the
 * calling node and its id. Each runs as a local `server.request` under the caller's timeout, so
 * it ends here when it times out there. Only a request that can end otherwise runs under an
 * AbortController (none per request on the common path): one whose caller passed a signal (`a`),
 * or one without a timeout. A cancel from the caller, or the caller's node dying, aborts those
 * (the peer's handler sees `ctx.signal`); the others end at their deadline. Every call is answered
 * exactly once, or not at all once cancelled.
 */
export class ServedCalls {
  readonly #node: ServingNode;
  readonly #calls = new Map<string, Served>();

  constructor(node: ServingNode) {
    this.#node = node;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** An event for one of this node's peers; one that left meanwhile is dropped (and counted). */
  deliver(message: SendMessage): void {
    try {
      if (this.#node.isMine(message.to)) {
        this.#node.host.sendLocal(message.to, message.e, message.v);
        return;
      }
    } catch {
      // the peer left meanwhile
    }
    this.#node.stats.dropped++;
  }

  serve(message: RequestMessage): void {
    const { n: nodeId, id } = message;
    if (this.#node.draining) {
      this.#fail(nodeId, id, new ConnectionClosedError('the server is shutting down'));
      return;
    }
    if (!this.#node.isMine(message.to)) {
      this.#fail(nodeId, id, new PeerNotFoundError(`no node holds a peer ${message.to}`, message.to));
      return;
    }
    const k = key(nodeId, id);
    const controller = message.a === 1 || message.ms === 0 ? new AbortController() : undefined;
    this.#calls.set(k, { nodeId, controller });
    const options = controller === undefined ? { timeoutMs: message.ms } : { timeoutMs: message.ms, signal: controller.signal };
    this.#node.host.requestLocal(message.to, message.m, message.v, options).then(
      (value) => {
        if (this.#calls.delete(k)) this.#node.reply(nodeId, { t: 'r', id, ok: true, v: value, err: undefined });
      },
      (error: unknown) => {
        if (this.#calls.delete(k)) this.#fail(nodeId, id, error);
      },
    );
  }

  /** The caller gave up on `id`: abort the local request, send nothing back. */
  cancel(nodeId: string, id: number, reason: Error): void {
    const k = key(nodeId, id);
    const call = this.#calls.get(k);
    if (call === undefined) return;
    this.#calls.delete(k);
    call.controller?.abort(reason);
  }

  /** The calling node is gone (`nodeId` undefined: every node, the cluster is unreachable). */
  abortNode(nodeId: string | undefined, reason: Error): void {
    for (const [k, call] of this.#calls) {
      if (nodeId !== undefined && call.nodeId !== nodeId) continue;
      this.#calls.delete(k);
      call.controller?.abort(reason);
    }
  }

  #fail(nodeId: string, id: number, error: unknown): void {
    // Anything that is not one of rpc's own errors is a bug worth the server's `error` event; the
    // caller only learns `INTERNAL`.
    if (!(error instanceof ProtoError)) this.#node.host.reportError(toError(error));
    this.#node.reply(nodeId, { t: 'r', id, ok: false, v: undefined, err: errorToWire(error) });
  }
}
