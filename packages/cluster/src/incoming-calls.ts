/** A request another node routed to one of this node's peers, while its local request runs. */
interface IncomingCall {
  readonly nodeId: string;
  readonly controller: AbortController;
}

/**
 * Requests from other nodes being served here, keyed by their node and id. Aborting one aborts
 * the local request (its peer's handler sees `ctx.signal` abort).
 */
export class IncomingCalls {
  readonly #calls = new Map<string, IncomingCall>();

  get size(): number {
    return this.#calls.size;
  }

  /** Register a call; returns the signal its local request runs under. */
  open(nodeId: string, id: number): AbortSignal {
    const controller = new AbortController();
    this.#calls.set(key(nodeId, id), { nodeId, controller });
    return controller.signal;
  }

  /** The local request settled: true when its answer should still be sent. */
  close(nodeId: string, id: number): boolean {
    return this.#calls.delete(key(nodeId, id));
  }

  /** The caller cancelled. */
  abort(nodeId: string, id: number, reason: Error): void {
    const k = key(nodeId, id);
    const call = this.#calls.get(k);
    if (call === undefined) return;
    this.#calls.delete(k);
    call.controller.abort(reason);
  }

  /** The calling node is gone (or the cluster unreachable, `nodeId` undefined: all of them). */
  abortNode(nodeId: string | undefined, reason: Error): void {
    for (const [k, call] of this.#calls) {
      if (nodeId !== undefined && call.nodeId !== nodeId) continue;
      this.#calls.delete(k);
      call.controller.abort(reason);
    }
  }
}

function key(nodeId: string, id: number): string {
  return `${nodeId}\n${id}`;
}
