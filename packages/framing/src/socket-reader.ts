import { Socket } from 'node:net';
import type { FrameDecoder, FrameHandler } from './decoder.js';

/**
 * Reads of a `net.Socket` made with Node's `onread` option, so that the kernel writes a large
 * frame's payload straight into that frame's own buffer: no reassembly copy of the ~16 reads a
 * 1 MiB frame arrives in, and reads as large as the rest of the frame.
 *
 * Between frames (and for small frames) the kernel reads into one scratch buffer shared by every
 * socket of the process, and each read is copied out into memory of its own before decoding (what
 * Node does itself, read by read): an idle connection holds no read buffer. Reads are synchronous
 * with their callback, so no two sockets ever use the scratch buffer at once. Right after a frame
 * read in place (a stream of large frames), the next read gets a 64 KiB buffer of its own instead,
 * kept without a copy when it is at least half full.
 *
 * Memory still follows the bytes received, never an announced length alone: a frame's buffer is
 * allocated once at least 1/{@link DIRECT_AFTER_FRACTION} of its payload has arrived; before that,
 * reads go into buffers sized by what was received (kept as pieces when at least half full, copied
 * once into the frame).
 */

/** Size of the shared scratch buffer (Node's own read size). */
const SCRATCH_BYTES = 64 * 1024;
/** Only payloads missing at least this much are read in place or into buffers of their own. */
const DIRECT_MIN_BYTES = 32 * 1024;
/** A frame's buffer is allocated once its received part is at least this fraction of it (1/8). */
const DIRECT_AFTER_FRACTION = 8;

/**
 * While paused, reads go on until this much is held (as a paused `net.Socket` reads up to its
 * buffer's mark), so a peer's end is still seen by a socket that paused with little to read.
 */
const HOLD_LIMIT_BYTES = 64 * 1024;

const SCRATCH = Buffer.allocUnsafe(SCRATCH_BYTES);

/**
 * Size of the next piece of a large frame whose payload has `received` bytes in and `missing` to
 * come: what was received (at least {@link SCRATCH_BYTES}), so memory grows with the bytes; or, when
 * up to twice that is exactly what the frame still needs before it is read in place, that much, so
 * the frame does not take one more (copied) piece for a few bytes. A 1 MiB payload with a small
 * prefix in front (an ns event) used to take: 64 KiB in, a 64 KiB piece, a few bytes short of 1/8, another
 * 128 KiB piece.
 */
function pieceBytes(received: number, missing: number): number {
  const grow = Math.max(SCRATCH_BYTES, received);
  const untilDirect = Math.ceil((received + missing) / DIRECT_AFTER_FRACTION) - received;
  const size = untilDirect > grow && untilDirect <= 2 * grow ? untilDirect : grow;
  return Math.min(missing, size);
}

// What the last buffer handed to the kernel was.
const IN_SCRATCH = 0;
const IN_PIECE = 1;
const IN_FRAME = 2;

/** Where a socket's reader is found (set on sockets made by `connect()` and `createServer()`). */
const kReader = Symbol('framedReader');

/** What a reader needs of its socket (a `net.Socket`; tests bind stand-ins). */
export interface ReadingSocket {
  readonly destroyed: boolean;
  resume(): unknown;
}

interface ReaderSocket extends ReadingSocket {
  [kReader]?: SocketReader;
}

/**
 * What a {@link SocketReader} reports to, with its `thisArg` as `this`: one object of functions per
 * class, shared by all its sockets (the decoder and `thisArg` are given to `attach` apart).
 */
export interface ReadSink<T> {
  readonly onFrame: FrameHandler<T>;
  /** Called with the byte count of every read, before decoding it. */
  readonly onBytes: (this: T, bytes: number) => void;
  /** Called when decoding throws (the decoder is failed from then on). */
  readonly onError: (this: T, error: unknown) => void;
  /** Called after a resume once everything held while paused was decoded. */
  readonly onReplayed: (this: T) => void;
}

/** The `onread` option Node takes: `buffer()` is called without a `this`, `callback` on the socket. */
export interface OnRead {
  readonly buffer: () => Uint8Array;
  readonly callback: (this: object, bytes: number, buffer: Uint8Array) => boolean;
}

/**
 * The reader whose read callback just returned: Node asks for the next buffer right after the
 * callback, with no `this` (stream_base_commons' onStreamRead), so the shared `buffer()` below
 * finds its socket here. Set only once the callback is done (a socket made inside a frame handler
 * asks for its first buffer while the callback runs: it gets the scratch buffer, as it should).
 */
let lastRead: SocketReader | undefined;

function onreadCallback(this: object, bytes: number, buffer: Uint8Array): boolean {
  const reader = (this as ReaderSocket)[kReader];
  if (reader === undefined) return true; // never: every socket given ONREAD is bound to its reader
  const more = reader.read(bytes, buffer);
  lastRead = reader;
  return more;
}

function onreadBuffer(): Uint8Array {
  const reader = lastRead;
  lastRead = undefined;
  return reader === undefined ? SCRATCH : reader.next();
}

/**
 * One `onread` option for every socket of the process: no closures per connection (each cost
 * ~350 bytes of heap: two functions, their names, their context).
 */
const ONREAD: OnRead = { buffer: onreadBuffer, callback: onreadCallback };

/** The `onread` option of one socket; made before the socket, attached to its FramedSocket later. */
export class SocketReader {
  #sink: ReadSink<unknown> | undefined;
  #decoder: FrameDecoder | undefined;
  #thisArg: unknown;
  #mode = IN_SCRATCH;
  #handed: Uint8Array = SCRATCH;
  #socket: ReadingSocket | undefined;
  /** Reads not decoded yet (paused, or before a sink was attached): chunks, or a count filled in place. */
  #held: (Buffer | number)[] | undefined;
  #heldAt = 0;
  #heldBytes = 0;
  #paused = false;
  #replayScheduled = false;

  /** Pass as `onread` to `net.connect()` / `new net.Socket()`, then {@link SocketReader.bind} the socket. */
  get onread(): OnRead {
    return ONREAD;
  }

  /** Marks `socket` as reading through this reader (for {@link readerOf}). */
  bind(socket: ReadingSocket): void {
    (socket as ReaderSocket)[kReader] = this;
    this.#socket = socket;
  }

  /** Whether reads are held, not decoded yet (paused, or a resume still replaying them). */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** Starts decoding: reads so far, then every later one, go to `decoder` and `sink` (called on `thisArg`). */
  attach<T>(sink: ReadSink<T>, decoder: FrameDecoder, thisArg: T): void {
    this.#sink = sink as ReadSink<unknown>;
    this.#decoder = decoder;
    this.#thisArg = thisArg;
    if (!this.#paused) this.resume();
  }

  /** Stops decoding; reads go on (held) until {@link HOLD_LIMIT_BYTES}, then the socket stops reading. */
  pause(): void {
    this.#paused = true;
  }

  /** Decodes what was held, at the next tick (never inside a frame handler), then reads on. */
  resume(): void {
    this.#paused = false;
    if (this.#held === undefined) {
      this.#socket?.resume();
    } else if (!this.#replayScheduled) {
      this.#replayScheduled = true;
      process.nextTick(replayHeld, this);
    }
  }

  /** Runs at the tick after {@link SocketReader.resume}. */
  scheduledReplay(): void {
    this.#replayScheduled = false;
    if (!this.#paused) this.#replay();
  }

  #replay(): void {
    const sink = this.#sink;
    const held = this.#held;
    if (sink === undefined || held === undefined) return;
    while (this.#heldAt < held.length) {
      if (this.#paused || this.#socket?.destroyed === true) return;
      const item = held[this.#heldAt]!;
      held[this.#heldAt++] = 0;
      if (typeof item === 'number') this.#fill(sink, item);
      else this.#decode(sink, item);
    }
    this.#held = undefined;
    this.#heldAt = 0;
    this.#heldBytes = 0;
    // Restarts reading if the hold limit stopped it (nothing otherwise).
    this.#socket?.resume();
    sink.onReplayed.call(this.#thisArg);
  }

  /** @internal the buffer for the next read (Node's `onread.buffer`, through {@link onreadBuffer}) */
  next(): Uint8Array {
    const decoder = this.#held === undefined ? this.#decoder : undefined;
    const missing = decoder === undefined ? 0 : decoder.missingPayloadBytes;
    let buffer: Uint8Array = SCRATCH;
    let mode = IN_SCRATCH;
    if (missing >= DIRECT_MIN_BYTES) {
      const received = decoder!.bufferedBytes;
      if (received * DIRECT_AFTER_FRACTION >= received + missing) {
        buffer = decoder!.payloadTarget();
        mode = IN_FRAME;
      } else {
        buffer = Buffer.allocUnsafe(pieceBytes(received, missing));
        mode = IN_PIECE;
      }
    } else if (missing === 0 && this.#mode === IN_FRAME && decoder !== undefined) {
      // The last read completed a frame in place: a stream of large frames, whose next read starts
      // the next one. It gets a buffer of its own, kept (as a piece, or as frames' views) without the
      // copy out of the scratch buffer, as Node's own reads are.
      buffer = Buffer.allocUnsafe(SCRATCH_BYTES);
      mode = IN_PIECE;
    }
    this.#mode = mode;
    this.#handed = buffer;
    return buffer;
  }

  /** @internal `bytes` were read into `buffer` (Node's `onread.callback`, through {@link onreadCallback}) */
  read(bytes: number, buffer: Uint8Array): boolean {
    const sink = this.#sink;
    // Every buffer comes from next(); anything else is copied, as the scratch buffer is.
    const mode = buffer === this.#handed ? this.#mode : IN_SCRATCH;
    const hold = sink === undefined || this.#paused || this.#held !== undefined;
    if (mode === IN_FRAME) {
      if (hold) return this.#hold(bytes, bytes);
      this.#fill(sink!, bytes);
      return true;
    }
    let chunk: Buffer;
    if (mode === IN_PIECE && bytes * 2 >= buffer.length) {
      chunk = Buffer.from(buffer.buffer, buffer.byteOffset, bytes);
    } else if (mode === IN_PIECE) {
      // Mostly empty: a view would keep the whole buffer alive for a few bytes.
      chunk = Buffer.from(buffer.subarray(0, bytes));
    } else if (buffer === SCRATCH) {
      chunk = Buffer.allocUnsafe(bytes);
      SCRATCH.copy(chunk, 0, 0, bytes);
    } else {
      chunk = Buffer.from(buffer.subarray(0, bytes));
    }
    if (hold) return this.#hold(chunk, bytes);
    this.#decode(sink!, chunk);
    return true;
  }

  /** Keeps a read for later; `false` (stop reading) once the hold limit is reached. */
  #hold(item: Buffer | number, bytes: number): boolean {
    (this.#held ??= []).push(item);
    this.#heldBytes += bytes;
    return this.#sink === undefined || this.#heldBytes < HOLD_LIMIT_BYTES;
  }

  #fill(sink: ReadSink<unknown>, bytes: number): void {
    const thisArg = this.#thisArg;
    sink.onBytes.call(thisArg, bytes);
    try {
      this.#decoder!.payloadFilled(bytes, sink.onFrame, thisArg);
    } catch (error) {
      sink.onError.call(thisArg, error);
    }
  }

  #decode(sink: ReadSink<unknown>, chunk: Buffer): void {
    const thisArg = this.#thisArg;
    sink.onBytes.call(thisArg, chunk.length);
    try {
      this.#decoder!.push(chunk, sink.onFrame, thisArg);
    } catch (error) {
      sink.onError.call(thisArg, error);
    }
  }
}

function replayHeld(reader: SocketReader): void {
  reader.scheduledReplay();
}

/** The reader a socket was made with, if any. */
export function readerOf(stream: object): SocketReader | undefined {
  return (stream as Partial<ReaderSocket>)[kReader];
}

/**
 * A socket a `net.Server` accepted with `pauseOnConnect` (so it has not read yet), made again
 * around the same handle with a {@link SocketReader} (`net.Server` has no `onread` option). The
 * accepted socket, now without a handle, is destroyed at once (that only settles the server's
 * count; the caller tracks its connections itself). Where the handle cannot be taken over (not a
 * stock `net.Socket`), the accepted socket is resumed and returned as it is.
 */
export function adoptAccepted(accepted: Socket, allowHalfOpen: boolean): Socket {
  const holder = accepted as Socket & { _handle?: object | null };
  const handle = holder._handle;
  if (handle === null || handle === undefined || accepted.destroyed || accepted.readableLength > 0) {
    accepted.resume();
    return accepted;
  }
  holder._handle = null;
  accepted.destroy();
  const reader = new SocketReader();
  const options = { handle, allowHalfOpen, onread: reader.onread };
  const socket = new Socket(options);
  reader.bind(socket);
  return socket;
}
