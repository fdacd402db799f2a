// Pinned mode: each benchmark process on a core of its own (`taskset -c <cpu>`), so a sender and its
// receiver never share a core or swap cores mid-run. On a 2-core machine an unpinned run is bimodal:
// it depends on whether the scheduler happens to put both processes on one core.
import { execFileSync } from 'node:child_process';

let allowed: number[] | null | undefined;

/** Parses taskset's "pid 1's current affinity list: 0-2,5" into [0, 1, 2, 5]. */
export function parseCpuList(text: string): number[] {
  const list = text.slice(text.lastIndexOf(':') + 1).trim();
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const [from, to] = part.split('-').map((s) => Number.parseInt(s, 10));
    if (from === undefined || Number.isNaN(from)) continue;
    for (let cpu = from; cpu <= (to === undefined || Number.isNaN(to) ? from : to); cpu++) cpus.push(cpu);
  }
  return cpus;
}

/**
 * The cores this process may run on, if `taskset` exists and there are at least two of them (pinning
 * one process per core needs two); `undefined` otherwise.
 */
export function pinnableCpus(): readonly number[] | undefined {
  if (allowed === undefined) {
    try {
      const cpus = parseCpuList(execFileSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' }));
      allowed = cpus.length >= 2 ? cpus : null;
    } catch {
      allowed = null;
    }
  }
  return allowed ?? undefined;
}

/** How the workers of a run are placed: pinned to cores, or left to the scheduler. */
export interface Placement {
  readonly pinned: boolean;
  /** The core for the n-th process of a pair (0: server/receiver, 1: client/sender). */
  cpuFor(index: number): number | undefined;
  /** One line for the report, e.g. "pinned: receiver/server on cpu 0, sender/client on cpu 1". */
  readonly description: string;
}

/** The placement for a run: pinned when asked and the machine allows it. */
export function placement(wantPinned: boolean): Placement {
  const cpus = wantPinned ? pinnableCpus() : undefined;
  if (cpus === undefined) {
    const why = wantPinned ? 'unpinned (taskset missing or fewer than 2 usable cores)' : 'unpinned (--no-pin)';
    return { pinned: false, cpuFor: () => undefined, description: why };
  }
  const [first, second] = cpus as [number, number];
  return {
    pinned: true,
    cpuFor: (index) => (index % 2 === 0 ? first : second),
    description: `pinned with taskset: server/receiver on cpu ${String(first)}, client/sender on cpu ${String(second)}`,
  };
}

let current: Placement = placement(false);

/** Sets the placement every worker of this run uses (run.ts does, from `--no-pin`). */
export function usePlacement(next: Placement): void {
  current = next;
}

/** The core for a worker: `'server'` (or a receiver) and `'client'` (or a sender) get different ones. */
export function cpuForRole(role: 'server' | 'client'): number | undefined {
  return current.cpuFor(role === 'server' ? 0 : 1);
}

/** The placement of this run. */
export function currentPlacement(): Placement {
  return current;
}
