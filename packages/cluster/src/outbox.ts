import type { Buffer } from 'node:buffer';
import { encodeBatch, encodeWith, type OutgoingMessage, senderSuffix } from './envelope.js';
import { clusterUnavailable } from './errors.js';
import type { OutgoingCall } from './outgoing-calls.js';
import type { ClusterStats } from './stats.js';
import type { ClusterTransport } from './transport.js';

/** What one channel has waiting for the end of the tick. */
interface Pending {
  readonly messages: Buffer[];
  /** Requests among them: failed if their publish is refused. */
  calls: OutgoingCall[] | undefined;
}

/**
 * What a node publishes, encoded with its sender suffix (computed once) and held until the end of
 * the tick: everything for one channel then goes out as one batch in one PUBLISH, so a burst of
 * requests or answers costs one command, one round of Redis work and one message on the receiving
 * node, in order. A publish the transport refuses is its outage: counted, and the requests in it
 * fail with `ERR_CLUSTER_UNAVAILABLE`.
 */
export class Outbox {
  readonly #transport: ClusterTransport;
  readonly #stats: ClusterStats;
  readonly #suffix: string;
  readonly #fail: (call: OutgoingCall, error: Error) => void;
  #pending = new Map<string, Pending>();
  #scheduled = false;
  readonly #flush = (): void => this.flush();

  constructor(transport: ClusterTransport, stats: ClusterStats, sender: { prefix: string; nodeId: string; incarnation: string }, fail: (call: OutgoingCall, error: Error) => void) {
    this.#transport = transport;
    this.#stats = stats;
    this.#suffix = senderSuffix(sender.prefix, sender.nodeId, sender.incarnation);
    this.#fail = fail;
  }

  /** @throws InvalidArgError when the message cannot be carried as JSON. */
  encode(message: OutgoingMessage): Buffer {
    return encodeWith(this.#suffix, message);
  }

  /** Queue encoded bytes for `channel` (with the request they carry, if any). */
  post(channel: string, bytes: Buffer, call?: OutgoingCall): void {
    this.#stats.messagesOut++;
    let pending = this.#pending.get(channel);
    if (pending === undefined) {
      pending = { messages: [], calls: undefined };
      this.#pending.set(channel, pending);
    }
    pending.messages.push(bytes);
    if (call !== undefined) (pending.calls ??= []).push(call);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Publish what waits now (also called before the node says goodbye). */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.size === 0) return;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [channel, { messages, calls }] of pending) {
      const publishing = this.#transport.publish(channel, encodeBatch(messages));
      publishing.catch((error: unknown) => {
        this.#stats.publishFailures += messages.length;
        if (calls !== undefined) for (const call of calls) this.#fail(call, clusterUnavailable(error));
      });
    }
  }
}
