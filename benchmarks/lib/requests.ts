// Request/response: closed-loop lanes (one request in flight per lane) measure req/s and latency.
import { errorRow } from './contenders.js';
import { type CpuSample, cpuMicros, epochMs, heapPerConnection, serverWindow } from './cpu.js';
import { Worker } from './fork.js';
import { type GcStats, GcWatch } from './gc.js';
import { type LatencySummary, LatencyRecorder } from './latency.js';
import { now } from './stats.js';
import type { Measurement } from './types.js';

export interface RequestParams {
  host: string;
  port: number;
  concurrencies: number[];
  /** Requests per warm-up phase and most requests per measured phase. */
  warm: number;
  total: number;
  /** Time limit of each phase. */
  capMs: number;
  /** Connected clients the in-flight requests are spread over (round-robin); 1 when absent. */
  clients?: number;
}

export interface RequestOutcome extends LatencySummary {
  concurrency: number;
  count: number;
  ms: number;
  /** Client CPU time over the measured phase, microseconds. */
  cpuUs: number;
  /** Measured phase, wall clock (epochMs), to find the server's CPU over the same window. */
  t0: number;
  t1: number;
  /** Client GC over the measured phase (absent when the client cannot tell, e.g. another program). */
  gc?: GcStats;
}

/** One request: add(a, b) on the server; must resolve to a + b. */
export type AddCall = (a: number, b: number) => Promise<number>;

async function phase(call: AddCall, concurrency: number, total: number, capMs: number, latencies: LatencyRecorder | null) {
  let issued = 0;
  let done = 0;
  const start = now();
  const deadline = start + capMs;
  async function lane(): Promise<void> {
    while (issued < total && now() < deadline) {
      const a = issued++;
      const t0 = now();
      const sum = await call(a, 1);
      const t1 = now();
      if (sum !== a + 1) throw new Error(`add(${a}, 1) returned ${String(sum)}`);
      if (latencies !== null) latencies.record(t1 - t0);
      done++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { count: done, ms: now() - start };
}

/** Opens `count` connections, `batch` at a time (a listen backlog is finite); resolves them in order. */
export async function openMany<T>(count: number, open: () => Promise<T>, batch = 100): Promise<T[]> {
  const all: T[] = [];
  while (all.length < count) all.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - all.length) }, open))));
  return all;
}

/** A call that sends each request on the next connection in turn: in-flight requests spread over them all. */
export function roundRobin<T>(conns: readonly T[], callOn: (conn: T, a: number, b: number) => Promise<number>): AddCall {
  if (conns.length === 1) {
    const only = conns[0] as T;
    return (a, b) => callOn(only, a, b);
  }
  let next = 0;
  return (a, b) => {
    const conn = conns[next] as T;
    next = next + 1 === conns.length ? 0 : next + 1;
    return callOn(conn, a, b);
  };
}

/** Client side: for each concurrency, a warm-up phase then a measured one. */
export async function measureRequests(params: RequestParams, call: AddCall): Promise<RequestOutcome[]> {
  const outcomes: RequestOutcome[] = [];
  for (const concurrency of params.concurrencies) {
    await phase(call, concurrency, params.warm, params.capMs, null);
    const latencies = new LatencyRecorder();
    const watch = new GcWatch();
    const t0 = epochMs();
    const cpu0 = cpuMicros();
    watch.start();
    const { count, ms } = await phase(call, concurrency, params.total, params.capMs, latencies);
    const gc = watch.stop();
    const cpuUs = cpuMicros() - cpu0;
    const t1 = epochMs();
    outcomes.push({ concurrency, count, ms, cpuUs, t0, t1, gc, ...latencies.summary() });
    latencies.destroy();
  }
  return outcomes;
}

export interface RequestRun {
  module: string;
  /** Module of the server role when it is not `module`. */
  serverModule?: string;
  server: string;
  client: string;
  params: Omit<RequestParams, 'port'>;
  note?: string;
  /** Node options for both processes (diagnostic runs). */
  nodeArgs?: readonly string[];
}

/** One row per concurrency for one contender. */
export async function runRequests(contender: string, run: RequestRun): Promise<Map<number, Measurement>> {
  const clients = run.params.clients ?? 1;
  // A curve point: the server's heap per connection too (needs global.gc), and file descriptors.
  const many = run.params.clients !== undefined;
  const fdLimit = clients + 1024;
  const nodeArgs = run.nodeArgs ?? [];
  const server = new Worker({ exposeGc: many, fdLimit, nodeArgs });
  const client = new Worker({ role: 'client', fdLimit, nodeArgs });
  const rows = new Map<number, Measurement>();
  const timeoutMs = run.params.concurrencies.length * run.params.capMs * 2 + 60_000;
  try {
    const serverDone = server.call<CpuSample[]>(run.serverModule ?? run.module, run.server, run.params, timeoutMs);
    serverDone.catch(() => {});
    const port = await Promise.race([
      server.next<number>('ready', 30_000),
      serverDone.then(() => Promise.reject(new Error('server finished before listening'))),
    ]);
    const outcomes = await client.call<RequestOutcome[]>(run.module, run.client, { ...run.params, port }, timeoutMs);
    server.post('stop');
    const samples = await serverDone;
    const heapPerConn = many ? heapPerConnection(samples, clients) : undefined;
    for (const o of outcomes) {
      const side = serverWindow(samples, o.t0, o.t1);
      rows.set(o.concurrency, {
        contender,
        status: 'ok',
        opsPerSec: o.count / (o.ms / 1000),
        p50Ms: o.p50Ms,
        p90Ms: o.p90Ms,
        p99Ms: o.p99Ms,
        maxMs: o.maxMs,
        clientCpuUsPerOp: o.cpuUs / o.count,
        ...(side === undefined ? {} : { cpuUsPerOp: o.cpuUs / o.count + side.cpuUsPerOp, serverCpuUsPerOp: side.cpuUsPerOp, serverSysUsPerOp: side.sysUsPerOp }),
        ...(o.gc === undefined ? {} : { clientAllocPerOp: o.gc.allocatedBytes / o.count }),
        ...(o.gc === undefined || side === undefined ? {} : { gcMaxMs: Math.max(o.gc.maxMs, side.gcMaxMs), gcUsPerOp: side.gcUsPerOp + (o.gc.totalMs * 1000) / o.count }),
        ...(side === undefined ? {} : { serverAllocPerOp: side.allocPerOp }),
        ...(heapPerConn === undefined ? {} : { heapPerConn }),
        count: o.count,
        ...(run.note === undefined ? {} : { note: run.note }),
      });
    }
  } catch (error) {
    for (const c of run.params.concurrencies) rows.set(c, errorRow(contender, error));
  } finally {
    await Promise.all([server.stop(), client.stop()]);
  }
  return rows;
}
