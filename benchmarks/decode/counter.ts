/** Every decode contender reports here; the harness checks both numbers against the stream it built. */
export const counter = { frames: 0, bytes: 0 };

/** During the checking pass: every frame delivered, kept until the pass ends (see checkFrames). */
let kept: unknown[] | undefined;

export function resetCounter(keep = false): void {
  counter.frames = 0;
  counter.bytes = 0;
  kept = keep ? [] : undefined;
}

/** Module-level frame callback, so no contender allocates a closure per pass. */
export function countFrame(frame: { readonly byteLength: number }): void {
  counter.frames++;
  counter.bytes += frame.byteLength;
  if (kept !== undefined) kept.push(frame);
}

/**
 * After the checking pass, once the whole stream went through the decoder: every frame must still be
 * one contiguous byte array of `frameSize` bytes carrying its own index (see stamp() in stream.ts). A
 * decoder that handed out views into memory it later reused, or assembled a frame wrongly, fails here.
 */
export function checkFrames(name: string, frameSize: number, readStamp: (frame: Uint8Array, index: number) => boolean): void {
  const frames = kept ?? [];
  kept = undefined;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    if (!(frame instanceof Uint8Array)) throw new Error(`${name}: frame ${i} is not contiguous bytes (a ${Object.prototype.toString.call(frame)})`);
    if (frame.byteLength !== frameSize || !readStamp(frame, i)) {
      throw new Error(`${name}: frame ${i} does not hold its own bytes after the stream ended (reused or misassembled memory)`);
    }
  }
}
