import type { RequestOptions } from '@proto/rpc';
import { AbortedError, InvalidArgError, RequestTimeoutError } from './errors.js';

/**
 * The timeout a request runs under (`fallbackMs` unless it gives one), or the error it fails with
 * at once: its signal is already aborted (nothing is sent), or `timeoutMs` is not a number >= 0.
 */
export function callTimeout(method: string, options: RequestOptions, fallbackMs: number): number | Error {
  const signal = options.signal;
  if (signal?.aborted === true) return new AbortedError(`request ${method} aborted before it was sent`, { cause: signal.reason });
  const timeoutMs = options.timeoutMs ?? fallbackMs;
  if (typeof timeoutMs === 'number' && timeoutMs >= 0 && Number.isFinite(timeoutMs)) return timeoutMs;
  return new InvalidArgError(`timeoutMs must be a number >= 0 (0 disables), got ${String(timeoutMs)}`);
}

/** What the table needs from its node when a caller gives up. */
export interface GiveUp {
  /** Tell the holding node to cancel request `id` (timeout or abort). */
  cancel(call: OutgoingCall): void;
}

function onTimeout(call: OutgoingCall): void {
  call.table.giveUp(call, new RequestTimeoutError(`request ${call.method} to ${call.peerId} timed out`));
}

/**
 * One request this node routed to another node, waiting for its answer. Settles exactly once:
 * the answer, a timeout, an abort, or the failure of its node or of the cluster.
 */
export class OutgoingCall {
  readonly table: OutgoingCalls;
  readonly id: number;
  readonly peerId: string;
  readonly method: string;
  /** The node it went to; set once the target node is known. */
  nodeId = '';
  /** Sent on the wire (a cancel is only worth sending then). */
  sent = false;
  readonly promise: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: Error) => void;
  timer: NodeJS.Timeout | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(table: OutgoingCalls, id: number, peerId: string, method: string) {
    this.table = table;
    this.id = id;
    this.peerId = peerId;
    this.method = method;
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** Requests in flight to other nodes, by id. Timers and abort listeners are released on every path. */
export class OutgoingCalls {
  readonly #calls = new Map<number, OutgoingCall>();
  readonly #host: GiveUp;
  #nextId = 0;

  constructor(host: GiveUp) {
    this.#host = host;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Start a call: its timeout (0: none) and abort signal run from now on. */
  open(peerId: string, method: string, timeoutMs: number, signal: AbortSignal | undefined): OutgoingCall {
    const call = new OutgoingCall(this, ++this.#nextId, peerId, method);
    this.#calls.set(call.id, call);
    if (timeoutMs > 0) call.timer = setTimeout(onTimeout, timeoutMs, call);
    if (signal !== undefined) {
      call.signal = signal;
      call.onAbort = () => this.giveUp(call, new AbortedError(`request ${method} aborted`, { cause: signal.reason }));
      signal.addEventListener('abort', call.onAbort, { once: true });
    }
    return call;
  }

  /** Whether `call` still waits. */
  pending(call: OutgoingCall): boolean {
    return this.#calls.get(call.id) === call;
  }

  /** The answer arrived from `nodeId`; an answer from any other node, or too late, is ignored. */
  take(id: number, nodeId: string): OutgoingCall | undefined {
    const call = this.#calls.get(id);
    if (call === undefined || call.nodeId !== nodeId) return undefined;
    this.#release(call);
    return call;
  }

  /** Settle with `error`, without telling the holding node. */
  fail(call: OutgoingCall, error: Error): void {
    if (!this.pending(call)) return;
    this.#release(call);
    call.reject(error);
  }

  /** The caller gave up (timeout, abort): settle and tell the holding node to cancel. */
  giveUp(call: OutgoingCall, error: Error): void {
    if (!this.pending(call)) return;
    this.#release(call);
    call.reject(error);
    if (call.sent) this.#host.cancel(call);
  }

  /** Fail every call that went to `nodeId` (it died or left). */
  failNode(nodeId: string, error: () => Error): void {
    for (const call of this.#calls.values()) if (call.nodeId === nodeId) this.fail(call, error());
  }

  /** Fail every call (the cluster became unreachable, or this node leaves). */
  failAll(error: () => Error): void {
    for (const call of [...this.#calls.values()]) this.fail(call, error());
  }

  #release(call: OutgoingCall): void {
    this.#calls.delete(call.id);
    clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
  }
}
