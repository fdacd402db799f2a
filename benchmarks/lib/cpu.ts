// CPU time as a second, noise-resistant cost measure: other processes on the machine stretch wall
// time, but barely change how much CPU one message or request costs.
import type { Ipc } from './ipc.js';

/** User + system CPU time of this process, microseconds. */
export function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** Wall-clock milliseconds comparable across processes on one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Server handlers increment this once per request served. */
export const served = { count: 0 };

export interface CpuSample {
  t: number;
  cpuUs: number;
  ops: number;
}

/** Server role tail: sample CPU and requests served every 50 ms until 'stop', then return the samples. */
export async function serveUntilStopped(ipc: Ipc): Promise<CpuSample[]> {
  const samples: CpuSample[] = [];
  const take = () => samples.push({ t: epochMs(), cpuUs: cpuMicros(), ops: served.count });
  take();
  const timer = setInterval(take, 50);
  await ipc.next('stop');
  clearInterval(timer);
  take();
  return samples;
}

/** CPU microseconds per op between two wall-clock times, from the samples inside that window. */
export function cpuPerOpBetween(samples: readonly CpuSample[], t0: number, t1: number): number | undefined {
  const inside = samples.filter((s) => s.t >= t0 && s.t <= t1);
  const first = inside[0];
  const last = inside.at(-1);
  if (first === undefined || last === undefined || last.ops <= first.ops) return undefined;
  return (last.cpuUs - first.cpuUs) / (last.ops - first.ops);
}
