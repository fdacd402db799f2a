// One-way throughput: a sender process pushes messages, a receiver process counts them.
import { bestOfRounds, errorRow, higherOps, medianOfRounds, progress, UNAVAILABLE } from './contenders.js';
import { Worker, withTimeout } from './fork.js';
import type { Ipc } from './ipc.js';
import { cpuMicros, minorFaults } from './cpu.js';
import { MiB, now } from './stats.js';
import type { Measurement } from './types.js';

export interface OneWayParams {
  host: string;
  port: number;
  /** Most messages the sender sends (warm-up included). */
  total: number;
  /** Messages the receiver lets pass before it starts the clock. */
  warm: number;
  /** The sender stops after this long even if it has not sent `total`. */
  capMs: number;
  /** Payload size for binary runs. */
  payloadBytes: number;
}

export interface ReceiveResult {
  /** Units received after the warm-up. */
  units: number;
  ms: number;
  /** Receiver CPU time over the same window, microseconds. */
  cpuUs: number;
  /** Receiver minor page faults over the same window. */
  faults: number;
}

export interface SendResult {
  sent: number;
  /** How many times the sender waited for a drain (backpressure). */
  waits?: number;
  /** Sender CPU time spent on the messages after the warm-up ones, microseconds. */
  cpuUs: number;
  /** Sender minor page faults over the same messages (absent from senders that do not count them). */
  faults?: number;
}

/**
 * Counts units (messages, or bytes for raw streams) on the receiving side. One compare per add():
 * the clock starts when `warm` units have arrived and stops when the sender's final count has.
 */
export class ReceiveMeter {
  received = 0;
  #next: number;
  #target: number;
  #start = 0;
  #startUnits = 0;
  #startCpu = 0;
  #startFaults = 0;
  #resolve!: (result: ReceiveResult) => void;
  #reject!: (error: Error) => void;
  readonly done: Promise<ReceiveResult>;
  readonly #timer: NodeJS.Timeout;

  constructor(ipc: Ipc, params: Pick<OneWayParams, 'total' | 'warm' | 'capMs'>, unitsPerMessage = 1) {
    this.#target = params.total * unitsPerMessage;
    this.#next = params.warm * unitsPerMessage;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    void ipc.next<number>('sent').then((sent) => this.#setTarget(sent * unitsPerMessage));
    this.#timer = setTimeout(() => {
      this.#reject(new Error(`receiver gave up with ${this.received} of ${this.#target} units`));
    }, params.capMs * 3 + 15_000);
  }

  add(units: number): void {
    const received = (this.received += units);
    if (received >= this.#next) this.#milestone(received);
  }

  #milestone(received: number): void {
    if (this.#start === 0) {
      this.#start = now();
      this.#startCpu = cpuMicros();
      this.#startFaults = minorFaults();
      this.#startUnits = received;
      this.#next = this.#target;
      if (received < this.#target) return;
    }
    this.#finish();
  }

  #setTarget(target: number): void {
    this.#target = target;
    if (this.#start !== 0) {
      this.#next = target;
      if (this.received >= target) this.#finish();
    } else if (target <= this.#next) {
      this.#reject(new Error(`sender stopped after ${target} units, within the warm-up`));
    }
  }

  #finish(): void {
    clearTimeout(this.#timer);
    this.#next = Number.POSITIVE_INFINITY;
    this.#resolve({
      units: this.received - this.#startUnits,
      ms: now() - this.#start,
      cpuUs: cpuMicros() - this.#startCpu,
      faults: minorFaults() - this.#startFaults,
    });
  }
}

/**
 * Sends up to `total` messages, honouring backpressure: when `sendOne` returns false it waits for `drained`.
 * Stops after `capMs` (but not before twice the warm-up count). Yields to the event loop now and then even without backpressure, as a real producer would.
 */
export async function sendLoop(
  params: Pick<OneWayParams, 'total' | 'warm' | 'capMs'>,
  sendOne: (i: number) => boolean,
  drained: () => Promise<void>,
): Promise<SendResult> {
  const { total, warm } = params;
  const deadline = now() + params.capMs;
  // A slow (loaded) machine may reach the deadline inside the warm-up: measure at least as many
  // messages as the warm-up had anyway, so every run has a measured window.
  const atLeast = Math.min(total, 2 * warm);
  let startCpu = Number.NaN;
  let startFaults = Number.NaN;
  let i = 0;
  let waits = 0;
  while (i < total) {
    if (i === warm) {
      startCpu = cpuMicros();
      startFaults = minorFaults();
    }
    if (!sendOne(i++)) {
      waits++;
      await drained();
      if (i >= atLeast && now() > deadline) break;
    } else if ((i & 0x3fff) === 0) {
      if (i >= atLeast && now() > deadline) break;
      await new Promise(setImmediate);
    }
  }
  return { sent: i, waits, cpuUs: cpuMicros() - startCpu, faults: minorFaults() - startFaults };
}

export interface OneWayRun {
  /** File URL of the module exporting both roles. */
  module: string;
  server: string;
  client: string;
  params: Omit<OneWayParams, 'port'>;
  /** Units (messages) per measured result unit, and bytes per unit for MB/s. */
  bytesPerMessage: number;
  /** The receiver counts bytes instead of messages (raw streams); result converted back to messages. */
  countsBytes?: boolean;
}

/** Payloads at least this large get page faults per message in the note (fresh buffers per message show there). */
const FAULT_NOTE_BYTES = 64 * 1024;

/** The drain waits, and for large payloads the page faults per message on each side. */
function oneWayNote(run: OneWayRun, sender: SendResult, recvFaults: number): { note?: string } {
  const parts: string[] = [];
  if (sender.waits !== undefined) parts.push(`${String(sender.waits)} drain waits / ${String(sender.sent)} sent`);
  if (run.bytesPerMessage >= FAULT_NOTE_BYTES) {
    const sendFaults = sender.faults === undefined ? undefined : sender.faults / (sender.sent - run.params.warm);
    parts.push(`page faults/msg recv ${recvFaults.toFixed(0)}, send ${sendFaults === undefined ? '?' : sendFaults.toFixed(0)}`);
  }
  return parts.length === 0 ? {} : { note: parts.join('; ') };
}

/** Fork a receiver and a sender, run one contender, and turn the outcome into a table row. */
export async function runOneWay(contender: string, run: OneWayRun): Promise<Measurement> {
  const server = new Worker();
  const client = new Worker({ role: 'client' });
  const timeoutMs = run.params.capMs * 3 + 30_000;
  let serverDone: Promise<ReceiveResult> | undefined;
  try {
    serverDone = server.call<ReceiveResult>(run.module, run.server, run.params, timeoutMs);
    serverDone.catch(() => {});
    const port = await Promise.race([
      server.next<number>('ready', 30_000),
      serverDone.then(() => Promise.reject(new Error('receiver finished before listening'))),
    ]);
    const sender = await client.call<SendResult>(run.module, run.client, { ...run.params, port }, timeoutMs);
    server.post('sent', sender.sent);
    const { units, ms, cpuUs, faults } = await withTimeout(serverDone, timeoutMs, 'receiver');
    const messages = run.countsBytes === true ? units / run.bytesPerMessage : units;
    const seconds = ms / 1000;
    return {
      contender,
      status: 'ok',
      opsPerSec: messages / seconds,
      mbPerSec: (messages * run.bytesPerMessage) / seconds / 1e6,
      cpuUsPerOp: cpuUs / messages + sender.cpuUs / (sender.sent - run.params.warm),
      serverCpuUsPerOp: cpuUs / messages,
      clientCpuUsPerOp: sender.cpuUs / (sender.sent - run.params.warm),
      count: Math.round(messages),
      ...oneWayNote(run, sender, faults / messages),
    };
  } catch (error) {
    // A receiver that crashed explains a sender's ECONNRESET better than the sender can.
    const receiverError = serverDone && (await withTimeout(serverDone, 300, 'receiver').then(() => undefined, (e: unknown) => e));
    const useReceiver = receiverError instanceof Error && !receiverError.message.startsWith('timed out');
    if (!useReceiver) return errorRow(contender, error);
    return errorRow(contender, receiverError.message.startsWith(UNAVAILABLE) ? receiverError : new Error(`receiver: ${receiverError.message}`));
  } finally {
    await Promise.all([server.stop(), client.stop()]);
  }
}

/** A contender of a one-way suite: its display name and where its two roles live. */
export type OneWayContender = { name: string } & Omit<OneWayRun, 'params' | 'bytesPerMessage'>;

/**
 * Runs every contender of a one-way suite `rounds` times, round-robin, one table row each, in
 * order: the best run of each (`'best'`), or the median one (`'median'`).
 */
export async function oneWayRows(
  suiteId: string,
  rounds: number,
  contenders: readonly OneWayContender[],
  params: OneWayRun['params'],
  bytesPerMessage: number,
  keep: 'best' | 'median' = 'best',
): Promise<Measurement[]> {
  const runOne = async (c: OneWayContender): Promise<Measurement[]> => {
    progress(`${suiteId}: ${c.name}`);
    return [await runOneWay(c.name, { ...c, params, bytesPerMessage })];
  };
  const kept = keep === 'median' ? await medianOfRounds(rounds, contenders, runOne) : await bestOfRounds(rounds, contenders, runOne, higherOps);
  return kept.map(([row]) => row as Measurement);
}

/** Parameters of the 1 MiB binary suites (framing over TCP, ns binary): the same load for both. */
export function binaryParams(quick: boolean): OneWayRun['params'] {
  return {
    host: '127.0.0.1',
    total: quick ? 1024 : 16_384,
    warm: quick ? 64 : 256,
    capMs: quick ? 1500 : 5000,
    payloadBytes: MiB,
  };
}
