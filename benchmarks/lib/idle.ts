// Idle-connection memory: how much the server process's heap grows per accepted, idle connection.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { bestOfRounds, errorRow, progress } from './contenders.js';
import { retainedPerConnection } from './heap-breakdown.js';
import { formatBytes } from './stats.js';
import { Worker, withTimeout } from './fork.js';
import type { Ipc } from './ipc.js';
import type { Measurement } from './types.js';

export interface IdleParams {
  host: string;
  port: number;
  /** Connections opened before the baseline, so one-time costs (JIT, caches) are not counted. */
  warm: number;
  connections: number;
  /** Connections opened at once by the client. */
  batch: number;
  /** Quiet time after the last accept, for handshakes to finish. */
  settleMs: number;
  /** Write a heap snapshot here after the measurement (see lib/heap-breakdown.ts). */
  snapshot?: string;
}

export interface IdleResult {
  connections: number;
  heapPerConn: number;
  externalPerConn: number;
  rssPerConn: number;
}

interface Sample {
  heap: number;
  external: number;
  rss: number;
}

async function sample(): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise(setImmediate);
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Server side: call accepted() for each connection; `done` resolves with per-connection growth. */
export class IdleMeter {
  accepted = 0;
  readonly done: Promise<IdleResult>;
  #wake: (() => void) | undefined;
  #waitingFor = Number.POSITIVE_INFINITY;

  constructor(ipc: Ipc, params: Pick<IdleParams, 'warm' | 'connections' | 'settleMs' | 'snapshot'>) {
    this.done = this.#run(ipc, params);
  }

  accept(): void {
    if (++this.accepted >= this.#waitingFor) this.#wake?.();
  }

  #until(count: number): Promise<void> {
    if (this.accepted >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waitingFor = count;
      this.#wake = resolve;
    });
  }

  async #run(ipc: Ipc, params: Pick<IdleParams, 'warm' | 'connections' | 'settleMs' | 'snapshot'>): Promise<IdleResult> {
    await ipc.next('baseline');
    await withTimeout(this.#until(params.warm), 60_000, 'warm-up connections');
    await sleep(params.settleMs);
    const before = await sample();
    ipc.post('baselined');
    const total = params.warm + params.connections;
    await withTimeout(this.#until(total), 120_000, `${total} connections (have ${this.accepted})`);
    await sleep(params.settleMs);
    const after = await sample();
    if (params.snapshot !== undefined) writeHeapSnapshot(params.snapshot);
    const n = params.connections;
    return {
      connections: n,
      heapPerConn: (after.heap - before.heap) / n,
      externalPerConn: (after.external - before.external) / n,
      rssPerConn: (after.rss - before.rss) / n,
    };
  }
}

/** Client side: open warm connections, wait for the go, open the rest, and keep them all. */
export async function openIdle<T>(params: IdleParams, ipc: Ipc, open: () => Promise<T>): Promise<{ opened: number }> {
  const kept: T[] = [];
  const openMany = async (count: number) => {
    for (let done = 0; done < count; ) {
      const n = Math.min(params.batch, count - done);
      kept.push(...(await Promise.all(Array.from({ length: n }, open))));
      done += n;
    }
  };
  await openMany(params.warm);
  ipc.post('warmed');
  await ipc.next('go');
  await openMany(params.connections);
  (globalThis as { keptConnections?: unknown }).keptConnections = kept;
  return { opened: kept.length };
}

export interface IdleRun {
  module: string;
  server: string;
  client: string;
  params: Omit<IdleParams, 'port'>;
  /** Also say what the connections hold (a heap snapshot of the server, lib/heap-breakdown.ts). */
  breakdown?: boolean;
}

/** "FramedSocket 776 B, Socket 816 B, ...": what one connection's root-held objects retain. */
function breakdownNote(file: string, connections: number): string {
  const shares = retainedPerConnection(file, connections);
  const each = (s: (typeof shares)[number]) => `${s.name}${s.perConnection >= 1.5 ? ` x${s.perConnection.toFixed(0)}` : ''} ${formatBytes(s.bytesPerConnection)}`;
  return `retained per connection (heap snapshot, objects held by GC roots, by constructor): ${shares.map(each).join(', ')}`;
}

export async function runIdle(contender: string, run: IdleRun): Promise<Measurement> {
  const fdLimit = run.params.warm + run.params.connections + 1024;
  const server = new Worker({ exposeGc: true, fdLimit });
  const client = new Worker({ fdLimit, role: 'client' });
  const snapshot = run.breakdown === true ? join(tmpdir(), `proto-bench-idle-${process.pid}-${Date.now()}.heapsnapshot`) : undefined;
  try {
    const params = snapshot === undefined ? run.params : { ...run.params, snapshot };
    const serverDone = server.call<IdleResult>(run.module, run.server, params, 300_000);
    serverDone.catch(() => {});
    const port = await Promise.race([
      server.next<number>('ready', 30_000),
      serverDone.then(() => Promise.reject(new Error('server finished before listening'))),
    ]);
    const clientDone = client.call<{ opened: number }>(run.module, run.client, { ...run.params, port }, 300_000);
    clientDone.catch(() => {});
    await Promise.race([client.next('warmed', 120_000), clientDone]);
    server.post('baseline');
    await Promise.race([server.next('baselined', 120_000), serverDone]);
    client.post('go');
    await clientDone;
    const result = await serverDone;
    const note = snapshot === undefined ? undefined : breakdownNote(snapshot, run.params.warm + run.params.connections);
    return {
      contender,
      status: 'ok',
      ...(note === undefined ? {} : { note }),
      heapPerConn: result.heapPerConn,
      externalPerConn: result.externalPerConn,
      rssPerConn: result.rssPerConn,
      count: result.connections,
    };
  } catch (error) {
    return errorRow(contender, error);
  } finally {
    await Promise.all([server.stop(), client.stop()]);
    if (snapshot !== undefined) rmSync(snapshot, { force: true });
  }
}

/** One row per contender (fewest heap bytes per connection of `rounds` runs), each in its own pair of processes. */
export async function idleRows(
  suiteId: string,
  rounds: number,
  contenders: readonly (Omit<IdleRun, 'params'> & { name: string })[],
  params: Omit<IdleParams, 'port'>,
): Promise<Measurement[]> {
  const best = await bestOfRounds(
    rounds,
    contenders,
    async (c) => {
      progress(`${suiteId}: ${c.name}`);
      return [await runIdle(c.name, { ...c, params })];
    },
    (a, b) => (a.heapPerConn ?? Number.POSITIVE_INFINITY) < (b.heapPerConn ?? Number.POSITIVE_INFINITY),
  );
  return best.map(([row]) => row as Measurement);
}
