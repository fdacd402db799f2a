/** Every decode contender reports here; the harness checks both numbers against the stream it built. */
export const counter = { frames: 0, bytes: 0 };

export function resetCounter(): void {
  counter.frames = 0;
  counter.bytes = 0;
}

/** Module-level frame callback, so no contender allocates a closure per pass. */
export function countFrame(frame: { readonly byteLength: number }): void {
  counter.frames++;
  counter.bytes += frame.byteLength;
}
