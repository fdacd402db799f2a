import { FrameTooLargeError } from '@proto/framing';

/** How many of a foreign peer's first bytes an error shows. */
const SHOWN_BYTES = 4;

/** The first bytes of `bytes` in hex (`48 54 54 50`). */
export function firstBytes(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, SHOWN_BYTES), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * A link error before the peer's hello, as reported: an oversize frame header there most likely
 * means a peer speaking another protocol (an HTTP server's reply announces 1,213,486,160 bytes), so
 * it stays ERR_FRAME_TOO_LARGE with a message that says so and shows the bytes.
 */
export function beforeHello(error: Error): Error {
  if (!(error instanceof FrameTooLargeError) || error.headerBytes === undefined) return error;
  const { headerBytes, announcedBytes } = error;
  return new FrameTooLargeError(`peer does not speak this protocol; first bytes ${firstBytes(headerBytes)}`, { cause: error, headerBytes, announcedBytes });
}
