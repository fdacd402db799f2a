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
