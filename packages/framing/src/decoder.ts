import { FrameTooLargeError, ProtocolError, UnexpectedEofError } from './errors.js';
import { checkMaxFrameBytes, type FrameOptions, resolveFrameOptions } from './frame-options.js';
import { isBuiltInCodec, type LengthPrefixCodec, UINT32BE_CODEC } from './length-prefix.js';
import { PayloadAssembler } from './payload-assembler.js';

/** Options of {@link FrameDecoder}; use the same values as the peer's encoder. */
export interface FrameDecoderOptions extends FrameOptions {}

/** Called with each complete frame's payload, in order. */
export type FrameHandler<This = void> = (this: This, frame: Buffer) => void;

/**
 * Where codecs put the length they decode. Shared by every decoder: it is read right after each
 * `decode()` call, before anything else runs, so no decoder ever sees another's value.
 */
const DECODED = { length: 0 };

// Between frames, in a partial header, or collecting a payload that spans chunks.
const IDLE = 0;
const HEADER = 1;
const PAYLOAD = 2;

/** The error for a header announcing `length`; its bytes are copied out of `source[start, end)`. */
function tooLarge(length: number, max: number, source: Uint8Array, start: number, end: number): FrameTooLargeError {
  return new FrameTooLargeError(`frame header announces ${String(length)} bytes, over maxFrameBytes (${String(max)})`, {
    headerBytes: Buffer.from(source.subarray(start, end)),
    announcedBytes: length,
  });
}

/**
 * Incremental decoder of length-prefixed frames. Feed it the chunks of a byte stream in order with
 * {@link FrameDecoder.push}; it calls back once per complete frame, whatever the chunk boundaries.
 *
 * A frame that lies inside one chunk is handed out as a view of that chunk (no copy), so the caller
 * must not modify a chunk after pushing it. A frame spanning chunks is assembled with one copy once
 * all its bytes are present. The decoder never writes into memory it has handed out, so a frame
 * stays valid after the callback returns.
 *
 * Any error (a malformed or oversized header, or an exception from the callback) leaves the decoder
 * failed: later `push()`/`end()` calls throw that same error again.
 */
export class FrameDecoder {
  private readonly _codec: LengthPrefixCodec;
  private readonly _fastUint32be: boolean;
  private readonly _trusted: boolean;
  private _maxFrameBytes: number;
  private _state: number = IDLE;
  /** Bytes of a header that straddles chunks; made when first needed, reused, never handed out. */
  private _header: Buffer | undefined;
  private readonly _maxHeaderBytes: number;
  private _headerLength = 0;
  /** Made by the first frame that spans chunks (an idle connection never needs one), then reused. */
  private _payload: PayloadAssembler | undefined;
  private _failed = false;
  private _error: unknown = undefined;

  /** @throws InvalidArgError for an unknown prefix or a bad `maxFrameBytes`. */
  constructor(options?: FrameDecoderOptions) {
    const { codec, maxFrameBytes } = resolveFrameOptions(options);
    this._codec = codec;
    this._fastUint32be = codec === UINT32BE_CODEC;
    this._trusted = isBuiltInCodec(codec);
    this._maxFrameBytes = maxFrameBytes;
    this._maxHeaderBytes = codec.maxHeaderBytes;
  }

  /**
   * Largest payload accepted, in bytes. Upper layers tighten it before authentication and relax it
   * after; a new value applies to every header completed from then on.
   *
   * @throws InvalidArgError (on set) unless a positive integer within the length prefix's range.
   */
  get maxFrameBytes(): number {
    return this._maxFrameBytes;
  }

  set maxFrameBytes(value: number) {
    this._maxFrameBytes = checkMaxFrameBytes(value, this._codec);
  }

  /** Bytes received but not yet delivered: a partial header, or the received part of a partial payload. */
  get bufferedBytes(): number {
    return this._headerLength + (this._payload?.receivedBytes ?? 0);
  }

  /** Payload bytes still missing from the frame being collected (0 between frames and in a header). */
  get missingPayloadBytes(): number {
    return this._state === PAYLOAD ? this._payload!.missingBytes : 0;
  }

  /**
   * For a reader that can choose where the next bytes land (Node's `onread`): the unfilled rest of
   * the frame being collected, in the frame's own buffer (allocated now if need be, with the bytes
   * received so far copied in). Write only the frame's next bytes into it, from its start, then call
   * {@link FrameDecoder.payloadFilled}. The caller decides when the allocation is warranted by the
   * bytes received; call it only while {@link FrameDecoder.missingPayloadBytes} is above 0.
   */
  payloadTarget(): Buffer {
    if (this._state !== PAYLOAD || this._failed) throw new ProtocolError('payloadTarget() called with no payload to collect');
    return this._payload!.target();
  }

  /**
   * Accounts for `count` bytes written at the start of the last {@link FrameDecoder.payloadTarget}
   * and delivers the frame once it is complete; in every other respect like {@link FrameDecoder.push}.
   */
  payloadFilled<This = void>(count: number, onFrame: FrameHandler<This>, thisArg?: This): void {
    if (this._failed) throw this._error;
    try {
      const payload = this._payload;
      if (payload === undefined) throw new ProtocolError('payloadFilled() called with no payload to collect');
      if (this._state !== PAYLOAD || !payload.targeted || !(count > 0 && count <= payload.missingBytes)) {
        throw new ProtocolError(`payloadFilled(${String(count)}) does not fit the frame being collected`);
      }
      const frame = payload.filled(count);
      if (frame === undefined) return;
      this._state = IDLE;
      onFrame.call(thisArg as This, frame);
    } catch (error) {
      this._fail(error);
      throw error;
    }
  }

  /**
   * Decodes `chunk`, calling `onFrame` for every frame it completes, in order (zero-length frames
   * as an empty Buffer). Bytes left over are kept for the next push. `thisArg` becomes `this` in
   * `onFrame`, so one module-level handler can serve every connection without a closure each.
   *
   * @throws FrameTooLargeError when a header announces more than `maxFrameBytes`; checked before any
   *   of that frame's payload is buffered.
   * @throws ProtocolError on a malformed header.
   */
  push<This = void>(chunk: Buffer, onFrame: FrameHandler<This>, thisArg?: This): void {
    if (this._failed) throw this._error;
    try {
      let offset = 0;
      if (this._state !== IDLE) {
        offset = this._resume(chunk, onFrame, thisArg);
        if (offset === chunk.length) return;
      }
      if (this._fastUint32be) this._scanUint32be(chunk, offset, onFrame, thisArg);
      else this._scan(chunk, offset, onFrame, thisArg);
    } catch (error) {
      this._fail(error);
      throw error;
    }
  }

  /**
   * Declares the end of the stream.
   *
   * @throws UnexpectedEofError (`ERR_UNEXPECTED_EOF`) when it ends inside a frame or a header.
   */
  end(): void {
    if (this._failed) throw this._error;
    if (this._state === IDLE) return;
    const error = new UnexpectedEofError(
      this._state === HEADER
        ? `stream ended inside a frame header (${String(this._headerLength)} bytes received)`
        : `stream ended inside a frame (${String(this._payload!.receivedBytes)} of ${String(this._payload!.expectedBytes)} payload bytes received)`,
    );
    this._fail(error);
    throw error;
  }

  private _fail(error: unknown): void {
    this._failed = true;
    this._error = error;
    this._state = IDLE;
    this._headerLength = 0;
    this._payload?.reset();
  }

  /** The common case, kept tight: no calls besides `onFrame` and `subarray` per frame. */
  private _scanUint32be<This>(chunk: Buffer, start: number, onFrame: FrameHandler<This>, thisArg: This | undefined): void {
    const end = chunk.length;
    let offset = start;
    while (end - offset >= 4) {
      const length =
        chunk[offset]! * 0x100_0000 + ((chunk[offset + 1]! << 16) | (chunk[offset + 2]! << 8) | chunk[offset + 3]!);
      if (length > this._maxFrameBytes) throw tooLarge(length, this._maxFrameBytes, chunk, offset, offset + 4);
      const payloadStart = offset + 4;
      offset = payloadStart + length;
      if (offset > end) {
        this._beginPayload(chunk, payloadStart, length);
        return;
      }
      onFrame.call(thisArg as This, chunk.subarray(payloadStart, offset));
    }
    if (offset < end) this._beginHeader(chunk, offset);
  }

  private _scan<This>(chunk: Buffer, start: number, onFrame: FrameHandler<This>, thisArg: This | undefined): void {
    const codec = this._codec;
    const out = DECODED;
    const end = chunk.length;
    let offset = start;
    while (offset < end) {
      const headerBytes = codec.decode(chunk, offset, end, out);
      if (headerBytes === 0) {
        this._beginHeader(chunk, offset);
        return;
      }
      if (!this._trusted && !(Number.isInteger(headerBytes) && headerBytes > 0 && headerBytes <= end - offset)) {
        throw new ProtocolError(`length prefix codec returned an invalid header size (${String(headerBytes)})`);
      }
      const length = this._checkLength(out.length, chunk, offset, offset + headerBytes);
      const payloadStart = offset + headerBytes;
      offset = payloadStart + length;
      if (offset > end) {
        this._beginPayload(chunk, payloadStart, length);
        return;
      }
      onFrame.call(thisArg as This, chunk.subarray(payloadStart, offset));
    }
  }

  /** Checks a decoded length; the header's bytes are `source[start, end)`. */
  private _checkLength(length: number, source: Uint8Array, start: number, end: number): number {
    if (length > this._maxFrameBytes) throw tooLarge(length, this._maxFrameBytes, source, start, end);
    if (!this._trusted && !(Number.isSafeInteger(length) && length >= 0)) {
      throw new ProtocolError(`length prefix codec decoded an invalid length (${String(length)})`);
    }
    return length;
  }

  private _beginHeader(chunk: Buffer, offset: number): void {
    const count = chunk.length - offset;
    if (count >= this._maxHeaderBytes) {
      // A well-behaved codec decodes or throws once it has maxHeaderBytes.
      throw new ProtocolError(`length prefix codec needs more than maxHeaderBytes (${String(this._maxHeaderBytes)})`);
    }
    chunk.copy((this._header ??= Buffer.alloc(this._maxHeaderBytes)), 0, offset);
    this._headerLength = count;
    this._state = HEADER;
  }

  private _beginPayload(chunk: Buffer, offset: number, length: number): void {
    const payload = (this._payload ??= new PayloadAssembler());
    payload.begin(length);
    if (offset < chunk.length) payload.add(chunk.subarray(offset));
    this._state = PAYLOAD;
  }

  /** Continues a header or payload left over from earlier chunks; returns where the next frame starts. */
  private _resume<This>(chunk: Buffer, onFrame: FrameHandler<This>, thisArg: This | undefined): number {
    const end = chunk.length;
    if (this._state === PAYLOAD) {
      const payload = this._payload!;
      const missing = payload.missingBytes;
      if (end < missing) {
        payload.add(chunk);
        return end;
      }
      const frame = payload.finish(chunk.subarray(0, missing));
      this._state = IDLE;
      onFrame.call(thisArg as This, frame);
      return missing;
    }

    // HEADER: complete the header in the scratch buffer; any payload bytes copied with it are skipped.
    const header = this._header!;
    const had = this._headerLength;
    const copied = chunk.copy(header, had, 0, Math.min(end, header.length - had));
    const available = had + copied;
    const headerBytes = this._codec.decode(header, 0, available, DECODED);
    if (headerBytes === 0) {
      if (available >= header.length) {
        throw new ProtocolError(`length prefix codec needs more than maxHeaderBytes (${String(header.length)})`);
      }
      this._headerLength = available;
      return end;
    }
    if (!this._trusted && !(Number.isInteger(headerBytes) && headerBytes > had && headerBytes <= available)) {
      throw new ProtocolError(`length prefix codec returned an invalid header size (${String(headerBytes)})`);
    }
    this._headerLength = 0;
    this._state = IDLE;
    const length = this._checkLength(DECODED.length, header, 0, headerBytes);
    const payloadStart = headerBytes - had;
    const payloadEnd = payloadStart + length;
    if (payloadEnd > end) {
      this._beginPayload(chunk, payloadStart, length);
      return end;
    }
    onFrame.call(thisArg as This, chunk.subarray(payloadStart, payloadEnd));
    return payloadEnd;
  }
}
