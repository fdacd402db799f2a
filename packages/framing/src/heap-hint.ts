import { giveGcHint } from './gc-hint.js';

/**
 * Memory for received frames of a quarter MiB or more, with a one-time hint to glibc's allocator.
 *
 * Every large frame handed out is memory of its own, freed by V8 in batches of tens of MiB. glibc
 * returns the top of its heap to the kernel once more than its trim threshold is free there (twice
 * the largest block it ever gave back with munmap: about 2 MiB after a 1 MiB frame), so the next
 * batch of frames is fresh memory again, mapped page by page: up to 256 page faults per MiB, most of
 * a receiver's time, and by luck of heap layout (a raw `net.Socket` stream is hit the same way).
 * glibc documents that freeing a mapped block raises both thresholds to its size (mallopt(3),
 * M_MMAP_THRESHOLD): so the first large frame of a process is preceded by one 31 MiB block, never
 * written (no resident memory), released at once. From then on the heap keeps up to 62 MiB free
 * for reuse instead of faulting it back in. Set `PROTO_FRAMING_HEAP_HINT=0` to leave the allocator
 * alone.
 */

/** Frames at least this large trigger the hint (and V8's, gc-hint.ts). */
export const HINT_MIN_BYTES = 256 * 1024;
/** Below glibc's 32 MiB ceiling for the dynamic threshold (the block's header counts too). */
const HINT_BLOCK_BYTES = 31 * 1024 * 1024;

const heapHintWanted = process.platform === 'linux' && process.env['PROTO_FRAMING_HEAP_HINT'] !== '0';
let largeFrameSeen = false;

/** `Buffer.allocUnsafe(bytes)` for a frame's payload, giving the hints first if it is the first large one. */
export function allocFrame(bytes: number): Buffer {
  if (!largeFrameSeen && bytes >= HINT_MIN_BYTES) {
    largeFrameSeen = true;
    giveGcHint();
    // Dropped at once: V8 frees it at its next collection, which is when glibc adjusts.
    if (heapHintWanted) Buffer.allocUnsafeSlow(HINT_BLOCK_BYTES);
  }
  return Buffer.allocUnsafe(bytes);
}
