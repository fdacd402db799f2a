// Runs one stream contender: a producer process (the stream's server) and a consumer process (its
// client), the consumer measuring items/s after a warm-up, the producer's CPU read from its samples
// over the consumer's window.
import { errorRow } from '../lib/contenders.js';
import { type CpuSample, cpuPerOpBetween } from '../lib/cpu.js';
import { Worker, withTimeout } from '../lib/fork.js';
import type { Measurement } from '../lib/types.js';
import type { ConsumeResult, StreamParams } from './meter.js';

export interface StreamRun {
  /** File URL of the module exporting both roles. */
  module: string;
  server: string;
  client: string;
  params: Omit<StreamParams, 'port'>;
  /** Bytes per item, for MB/s. */
  bytesPerItem: number;
  /** The stream's window (items), for the note on the round-trip bound. */
  highWaterMark?: number;
}

export async function runStream(contender: string, run: StreamRun): Promise<Measurement> {
  const producer = new Worker();
  const consumer = new Worker({ role: 'client' });
  const timeoutMs = run.params.capMs * 3 + 30_000;
  try {
    const producerDone = producer.call<CpuSample[]>(run.module, run.server, run.params, timeoutMs);
    producerDone.catch(() => {});
    const port = await Promise.race([
      producer.next<number>('ready', 30_000),
      producerDone.then(() => Promise.reject(new Error('producer finished before listening'))),
    ]);
    const result = await consumer.call<ConsumeResult>(run.module, run.client, { ...run.params, port }, timeoutMs);
    producer.post('stop');
    const samples = await withTimeout(producerDone, timeoutMs, 'producer');
    const producerCpu = cpuPerOpBetween(samples, result.t0, result.t1);
    const seconds = result.ms / 1000;
    const notes: string[] = [];
    if (producerCpu === undefined) notes.push('producer CPU not sampled');
    if (result.rttUs !== undefined && run.highWaterMark !== undefined) {
      // W items per round trip at most (credit), so W / RTT bounds the rate.
      const bound = (run.highWaterMark / result.rttUs) * 1e6;
      notes.push(`round trip p50 ${result.rttUs.toFixed(0)} µs: ${String(run.highWaterMark)} items per round trip is ${formatRate(bound)} items/s`);
    }
    return {
      contender,
      status: 'ok',
      opsPerSec: result.items / seconds,
      mbPerSec: (result.items * run.bytesPerItem) / seconds / 1e6,
      cpuUsPerOp: result.cpuUs / result.items + (producerCpu ?? 0),
      count: result.items,
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    };
  } catch (error) {
    return errorRow(contender, error);
  } finally {
    await Promise.all([producer.stop(), consumer.stop()]);
  }
}

function formatRate(rate: number): string {
  return rate >= 1e6 ? `${(rate / 1e6).toFixed(2)} M` : `${(rate / 1e3).toFixed(0)} k`;
}
