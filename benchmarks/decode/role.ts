import { importContender } from '../lib/contenders.js';
import { median, now } from '../lib/stats.js';
import type { DecodeContender } from './contender.js';
import { checkFrames, counter, resetCounter } from './counter.js';
import { buildStream, cutChunks, hasStamp } from './stream.js';

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
  /** Minor page faults per frame over the timed passes (fresh memory the kernel had to map). */
  faultsPerFrame: number;
}

/** One pass over the stream; `check`: keep every frame and check them all once the stream ended (untimed use only). */
async function pass(contender: DecodeContender, chunks: readonly Buffer[], frames: number, frameSize: number, check = false): Promise<number> {
  resetCounter(check && contender.countsFrames !== false);
  const start = now();
  await contender.decode(chunks);
  const ms = now() - start;
  if (contender.countsFrames !== false && (counter.frames !== frames || counter.bytes !== frames * frameSize)) {
    throw new Error(`${contender.name} decoded ${counter.frames} frames / ${counter.bytes} bytes, expected ${frames} / ${frames * frameSize}`);
  }
  if (check && contender.countsFrames !== false) checkFrames(contender.name, frameSize, hasStamp);
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
    // Warm-up: every contender's frames are kept to the end of the stream and checked (same checks for all).
    await pass(contender, chunks, frames, frameSize, true);
    await pass(contender, chunks, frames, frameSize);
    const times: number[] = [];
    let spent = 0;
    const faultsBefore = process.resourceUsage().minorPageFault;
    while (times.length < params.maxPasses && (times.length === 0 || spent < params.minMs)) {
      const ms = await pass(contender, chunks, frames, frameSize);
      times.push(ms);
      spent += ms;
    }
    const faults = process.resourceUsage().minorPageFault - faultsBefore;
    outcomes.push({ frameSize, frames, wireBytes: data.length, ms: median(times), passes: times.length, faultsPerFrame: faults / (frames * times.length) });
  }
  return outcomes;
}
