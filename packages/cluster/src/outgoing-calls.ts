import type { RequestOptions } from '@proto/rpc';
import { capturedReject, capturedResolve, DeadlineQueue, type Deadlined, type DueList, pendingPromise } from '@proto/rpc/internal';
import type { OutgoingMessage } from './envelope.js';
import { AbortedError, InvalidArgError, RequestTimeoutError } from './errors.js';

/** Node's timers cannot wait longer than this. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The request message of `call` (`a: 1` when its caller may cancel it before the timeout). */
export function requestMessage(call: OutgoingCall, timeoutMs: number, params: unknown): OutgoingMessage {
  return call.watch === undefined
    ? { t: 'q', id: call.id, to: call.peerId, m: call.method, ms: timeoutMs, v: params }
    : { t: 'q', id: call.id, to: call.peerId, m: call.method, ms: timeoutMs, a: 1, v: params };
}

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
  call.timer = undefined;
  call.table.giveUp(call, new RequestTimeoutError(`request ${call.method} to ${call.peerId} timed out`));
}

/** The abort listener of a call's signal (EventListenerObject: no closure per call). */
class AbortWatch {
  readonly call: OutgoingCall;
  readonly signal: AbortSignal;

  constructor(call: OutgoingCall, signal: AbortSignal) {
    this.call = call;
    this.signal = signal;
  }

  handleEvent(): void {
    const call = this.call;
    call.table.giveUp(call, new AbortedError(`request ${call.method} aborted`, { cause: this.signal.reason }));
  }
}

/**
 * One request this node routed to another node, waiting for its answer. Settles exactly once:
 * the answer, a timeout, an abort, or the failure of its node or of the cluster.
 */
export class OutgoingCall implements Deadlined {
  readonly table: OutgoingCalls;
  readonly id: number;
  readonly peerId: string;
  readonly method: string;
  /** The node it went to; set once the target node is known. */
  nodeId = '';
  /** Sent on the wire (a cancel is only worth sending then). */
  sent = false;
  readonly promise: Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  /** Own timer, only when the deadline queue has no list for its timeout. */
  timer: NodeJS.Timeout | undefined = undefined;
  /** Only when the caller passed a signal. */
  watch: AbortWatch | undefined = undefined;
  dueAt = 0;
  dueList: DueList | undefined = undefined;
  prevDue: OutgoingCall | undefined = undefined;
  nextDue: OutgoingCall | undefined = undefined;

  constructor(table: OutgoingCalls, id: number, peerId: string, method: string) {
    this.table = table;
    this.id = id;
    this.peerId = peerId;
    this.method = method;
    // No closure per call: the executor is rpc's one module-level function.
    this.promise = pendingPromise();
    this.resolve = capturedResolve();
    this.reject = capturedReject();
  }
}

/**
 * Requests in flight to other nodes, by id. Their timeouts share one timer (rpc's
 * {@link DeadlineQueue}: a FIFO list per timeout value) instead of one per request; a call has an
 * abort listener only when its caller passed a signal. Both are released on every path.
 */
export class OutgoingCalls {
  readonly #calls = new Map<number, OutgoingCall>();
  readonly #deadlines = new DeadlineQueue<OutgoingCall>(onTimeout);
  readonly #host: GiveUp;
  #nextId = 0;

  constructor(host: GiveUp) {
    this.#host = host;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Whether the shared deadline timer is armed (tests: it must not outlive the last call). */
  get deadlineTimerArmed(): boolean {
    return this.#deadlines.armed;
  }

  /** Start a call: its timeout (0: none) and abort signal run from now on. */
  open(peerId: string, method: string, timeoutMs: number, signal: AbortSignal | undefined): OutgoingCall {
    const call = new OutgoingCall(this, ++this.#nextId, peerId, method);
    this.#calls.set(call.id, call);
    // Past the queue's distinct timeouts, a timer of its own (a longer delay than timers take: none).
    if (timeoutMs > 0 && !this.#deadlines.add(call, timeoutMs) && timeoutMs <= MAX_TIMER_DELAY_MS) {
      call.timer = setTimeout(onTimeout, timeoutMs, call);
    }
    if (signal !== undefined) {
      call.watch = new AbortWatch(call, signal);
      signal.addEventListener('abort', call.watch, { once: true });
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
    this.#deadlines.remove(call);
    if (call.timer !== undefined) {
      clearTimeout(call.timer);
      call.timer = undefined;
    }
    const watch = call.watch;
    if (watch !== undefined) {
      call.watch = undefined;
      watch.signal.removeEventListener('abort', watch);
    }
  }
}
