// CPU time as a second, noise-resistant cost measure: other processes on the machine stretch wall
// time, but barely change how much CPU one message or request costs.
import { readFileSync } from 'node:fs';
import { GcWatch } from './gc.js';
import type { Ipc } from './ipc.js';

/** User + system CPU time of this process, microseconds. */
export function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** Minor page faults of this process so far: fresh memory the kernel had to map (a cost CPU time hides in `sys`). */
export function minorFaults(): number {
  return process.resourceUsage().minorPageFault;
}

/** System (kernel) CPU time of this process, microseconds: syscalls, mostly socket reads and writes. */
export function sysMicros(): number {
  return process.cpuUsage().system;
}

/** Wall-clock milliseconds comparable across processes on one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Write syscalls of this process so far (`syscw` in /proc/self/io), or undefined where that file is missing. */
export function writeSyscalls(): number | undefined {
  try {
    const match = /^syscw: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Server handlers increment this once per request served. */
export const served = { count: 0 };

export interface CpuSample {
  t: number;
  cpuUs: number;
  /** The kernel's share of cpuUs. */
  sysUs: number;
  ops: number;
  /** Cumulative since the first sample: GC pauses (ms), collections, bytes allocated on the JS heap. */
  gcMs: number;
  gcCount: number;
  allocated: number;
  /** Longest GC pause since the previous sample, ms. */
  gcMaxMs: number;
  /** Write syscalls so far (Linux), see writeSyscalls(). */
  writes?: number;
  /** heapUsed after a full GC: only on the first and last sample, and only with --expose-gc. */
  heap?: number;
}

/** heapUsed after full collections, or undefined without --expose-gc. */
export function heapAfterGc(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Server role tail: sample CPU and requests served every 50 ms until 'stop', then return the samples.
 * With --expose-gc the first and last samples also carry the heap after a full GC (the last one is
 * taken while the clients are still connected: the growth is what the connections hold).
 */
export async function serveUntilStopped(ipc: Ipc): Promise<CpuSample[]> {
  const samples: CpuSample[] = [];
  const watch = new GcWatch();
  let gcMs = 0;
  let gcCount = 0;
  let allocated = 0;
  const take = () => {
    const gc = watch.stop();
    watch.start();
    gcMs += gc.totalMs;
    gcCount += gc.count;
    allocated += gc.allocatedBytes;
    const usage = process.cpuUsage();
    const writes = writeSyscalls();
    samples.push({ t: epochMs(), cpuUs: usage.user + usage.system, sysUs: usage.system, ops: served.count, gcMs, gcCount, allocated, gcMaxMs: gc.maxMs, ...(writes === undefined ? {} : { writes }) });
  };
  const heap0 = heapAfterGc();
  watch.start();
  take();
  if (heap0 !== undefined) samples[0]!.heap = heap0;
  const timer = setInterval(take, 50);
  await ipc.next('stop');
  clearInterval(timer);
  take();
  watch.stop();
  const heap1 = heapAfterGc();
  if (heap1 !== undefined) samples.at(-1)!.heap = heap1;
  return samples;
}

/** Heap growth of a server between its first and last samples, per connection (see serveUntilStopped). */
export function heapPerConnection(samples: readonly CpuSample[], connections: number): number | undefined {
  const first = samples[0]?.heap;
  const last = samples.at(-1)?.heap;
  return first === undefined || last === undefined ? undefined : (last - first) / connections;
}

/** The server's costs per op between two wall-clock times, from the samples inside that window. */
export interface ServerWindow {
  cpuUsPerOp: number;
  sysUsPerOp: number;
  gcUsPerOp: number;
  allocPerOp: number;
  gcMaxMs: number;
  /** Write syscalls per op (Linux only). */
  writesPerOp: number | undefined;
}

export function serverWindow(samples: readonly CpuSample[], t0: number, t1: number): ServerWindow | undefined {
  const inside = samples.filter((s) => s.t >= t0 && s.t <= t1);
  const first = inside[0];
  const last = inside.at(-1);
  if (first === undefined || last === undefined || last.ops <= first.ops) return undefined;
  const ops = last.ops - first.ops;
  return {
    cpuUsPerOp: (last.cpuUs - first.cpuUs) / ops,
    sysUsPerOp: (last.sysUs - first.sysUs) / ops,
    gcUsPerOp: ((last.gcMs - first.gcMs) * 1000) / ops,
    allocPerOp: (last.allocated - first.allocated) / ops,
    gcMaxMs: Math.max(0, ...inside.slice(1).map((s) => s.gcMaxMs)),
    writesPerOp: first.writes === undefined || last.writes === undefined ? undefined : (last.writes - first.writes) / ops,
  };
}

/** CPU microseconds per op between two wall-clock times, from the samples inside that window. */
export function cpuPerOpBetween(samples: readonly CpuSample[], t0: number, t1: number): number | undefined {
  return serverWindow(samples, t0, t1)?.cpuUsPerOp;
}
