import type { RpcClient } from '@proto/rpc';
import { ExitCode, exitCodeOf } from '../exit-codes.js';
import type { Tally } from './tally.js';

/** What every benchmark request sends. */
export interface Job {
  readonly clients: readonly RpcClient[];
  readonly method: string;
  readonly params: unknown;
  /** Per request; 0 disables. */
  readonly timeoutMs: number;
  readonly durationMs: number;
  /** Stops the run early (Ctrl+C). */
  readonly signal: AbortSignal;
  readonly tally: Tally;
}

/**
 * Closed loop: every connection keeps `concurrency` requests in flight, sending the next one when
 * an answer arrives, until the duration is over. Latency is from send to answer. A worker whose
 * connection is gone stops (instead of spinning on `ERR_NOT_CONNECTED`).
 * @returns the elapsed milliseconds, up to the last answer.
 */
export async function closedLoop(job: Job, concurrency: number): Promise<number> {
  const start = performance.now();
  const end = start + job.durationMs;
  const worker = async (client: RpcClient): Promise<void> => {
    while (!job.signal.aborted && performance.now() < end) {
      const sent = performance.now();
      try {
        await client.request(job.method, job.params, { timeoutMs: job.timeoutMs });
        job.tally.success(performance.now() - sent);
      } catch (error) {
        job.tally.failure(error);
        if (exitCodeOf(error) === ExitCode.CONNECTION) return;
      }
    }
  };
  await Promise.all(job.clients.flatMap((client) => Array.from({ length: concurrency }, () => worker(client))));
  return performance.now() - start;
}

/**
 * Open loop: requests are sent at a fixed rate (per second, over all connections, round robin)
 * whether or not earlier ones were answered, and each latency is measured from the moment its
 * request was scheduled, not sent. A server that stalls therefore shows its stall in every
 * request scheduled during it instead of slowing the sender down (coordinated omission).
 * @returns the elapsed milliseconds, up to the last answer.
 */
export function openLoop(job: Job, ratePerSecond: number): Promise<number> {
  const start = performance.now();
  const total = Math.max(1, Math.floor((ratePerSecond * job.durationMs) / 1000));
  const intervalMs = 1000 / ratePerSecond;
  const clients = job.clients;
  return new Promise((resolve) => {
    let scheduled = 0;
    let pending = 0;
    let stopped = false;
    const settle = (): void => {
      pending--;
      if (stopped && pending === 0) resolve(performance.now() - start);
    };
    const send = (index: number): void => {
      const intended = start + index * intervalMs;
      pending++;
      clients[index % clients.length]!.request(job.method, job.params, { timeoutMs: job.timeoutMs }).then(
        () => {
          job.tally.success(performance.now() - intended);
          settle();
        },
        (error: unknown) => {
          job.tally.failure(error);
          settle();
        },
      );
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (scheduled < due) send(scheduled++);
      if (scheduled >= total || job.signal.aborted) {
        stopped = true;
        if (pending === 0) resolve(performance.now() - start);
        return;
      }
      setTimeout(tick, Math.max(0, start + scheduled * intervalMs - performance.now()));
    };
    tick();
  });
}
