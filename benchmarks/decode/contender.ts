import type { Format } from './stream.js';

export interface DecodeContender {
  name: string;
  format: Format;
  /** Decode every chunk, calling countFrame(frame) for each frame (payload only, header excluded). */
  decode(chunks: readonly Buffer[]): void | Promise<void>;
  /** false for the memcpy reference, which moves bytes but finds no frames. */
  countsFrames?: false;
}
