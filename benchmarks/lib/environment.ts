import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface Environment {
  date: string;
  cpu: string;
  cpus: number;
  memory: string;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: a hint of how noisy it was. */
  load: string;
  /**
   * "quiet" when the 1-minute load average at the start was under a quarter of the cores, else
   * "busy" or "loaded": say so next to every figure, as wall-clock rates depend on it.
   */
  machineState: string;
  /** Commit the sources were at (`-dirty` when the working tree had changes). */
  commit: string;
}

export function environment(): Environment {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    platform: `${os.type()} ${os.release()} (${os.arch()})`,
    load: os.loadavg().map((l) => l.toFixed(2)).join(' / '),
    machineState: machineState(os.loadavg()[0] ?? 0, cpus.length),
    commit: gitCommit(),
  };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** How busy the machine was, from the 1-minute load average against the core count. */
export function machineState(load1: number, cpus: number): string {
  const perCore = load1 / Math.max(1, cpus);
  const words = perCore < 0.25 ? 'quiet' : perCore < 1 ? 'busy' : 'loaded';
  const advice = words === 'quiet' ? '' : ': other work shared the cores, wall-clock figures are low and noisy; CPU-time columns and ratios within the run are the steadier reading';
  return `${words} (load ${load1.toFixed(2)} on ${String(cpus)} cores${advice})`;
}
