import { importContender } from '../lib/contenders.js';
import { median, now } from '../lib/stats.js';
import type { DecodeContender } from './contender.js';
import { counter, resetCounter } from './counter.js';
import { buildStream, cutChunks } from './stream.js';

export interface DecodeParams {
  module: string;
  contender: string;
  frameSizes: number[];
  totalBytes: number;
  seed: number;
  minChunk: number;
  maxChunk: number;
  /** Keep timing passes until this much time was spent (at least one pass, at most maxPasses). */
  minMs: number;
  maxPasses: number;
}

export interface DecodeOutcome {
  frameSize: number;
  frames: number;
  wireBytes: number;
  /** Median pass time. */
  ms: number;
  passes: number;
}

async function pass(contender: DecodeContender, chunks: readonly Buffer[], frames: number, frameSize: number): Promise<number> {
  resetCounter();
  const start = now();
  await contender.decode(chunks);
  const ms = now() - start;
  if (contender.countsFrames !== false && (counter.frames !== frames || counter.bytes !== frames * frameSize)) {
    throw new Error(`${contender.name} decoded ${counter.frames} frames / ${counter.bytes} bytes, expected ${frames} / ${frames * frameSize}`);
  }
  return ms;
}

/** Worker role: decode the same seeded stream repeatedly with one contender, for each frame size. */
export async function runDecode(params: DecodeParams): Promise<DecodeOutcome[]> {
  const mod = await importContender<{ contenders: DecodeContender[] }>(params.module);
  const contender = mod.contenders.find((c) => c.name === params.contender);
  if (contender === undefined) throw new Error(`no decode contender ${params.contender}`);
  const outcomes: DecodeOutcome[] = [];
  for (const frameSize of params.frameSizes) {
    const { data, frames } = buildStream(contender.format, frameSize, params.totalBytes);
    const chunks = cutChunks(data, params.seed, params.minChunk, params.maxChunk);
    await pass(contender, chunks, frames, frameSize); // warm-up, also checks the count
    const times: number[] = [];
    let spent = 0;
    while (times.length < params.maxPasses && (times.length === 0 || spent < params.minMs)) {
      const ms = await pass(contender, chunks, frames, frameSize);
      times.push(ms);
      spent += ms;
    }
    outcomes.push({ frameSize, frames, wireBytes: data.length, ms: median(times), passes: times.length });
  }
  return outcomes;
}
