import { allocFrame } from './heap-hint.js';

/** Pieces at least this long are kept by reference; shorter ones are copied into a staging buffer. */
const REFERENCE_MIN_BYTES = 2048;
const STAGE_MIN_BYTES = 256;

/**
 * Collects the payload of one frame that spans chunks, in memory proportional to the bytes actually
 * received, never to the announced length: a peer that announces 16 MiB and sends 10 bytes costs
 * about 10 bytes. Large pieces are kept as views of their chunks (as ws's receiver does) and copied
 * once into the final buffer. Small pieces (a peer trickling bytes) are copied into a staging buffer
 * that grows geometrically, capped at twice its content, so a stream of tiny chunks does not keep one
 * Buffer object per byte alive.
 */
export class PayloadAssembler {
  private _pieces: Buffer[] = [];
  private _stage: Buffer | null = null;
  private _stageLength = 0;
  private _received = 0;
  private _expected = 0;
  /** The frame's own buffer once {@link PayloadAssembler.target} made it; filled from then on. */
  private _frame: Buffer | null = null;

  /** Payload bytes received so far. */
  get receivedBytes(): number {
    return this._received;
  }

  /** Announced payload length of the frame being collected. */
  get expectedBytes(): number {
    return this._expected;
  }

  /** Bytes still needed to complete the frame. */
  get missingBytes(): number {
    return this._expected - this._received;
  }

  /** Whether {@link PayloadAssembler.target} made the frame's buffer. */
  get targeted(): boolean {
    return this._frame !== null;
  }

  /** Starts collecting a frame whose payload is `expected` bytes (allocates nothing). */
  begin(expected: number): void {
    this._expected = expected;
  }

  /** Adds a piece that does not complete the frame. The piece must not be modified afterwards. */
  add(piece: Buffer): void {
    const n = piece.length;
    if (n === 0) return;
    if (this._frame !== null) {
      piece.copy(this._frame, this._received);
      this._received += n;
      return;
    }
    if (n >= REFERENCE_MIN_BYTES) {
      this._sealStage();
      this._pieces.push(piece);
    } else {
      let stage = this._stage;
      if (stage === null || this._stageLength + n > stage.length) stage = this._growStage(n);
      piece.copy(stage, this._stageLength);
      this._stageLength += n;
    }
    this._received += n;
  }

  /** Completes the frame with its last piece and returns the whole payload in memory of its own. */
  finish(last: Buffer): Buffer {
    const expected = this._expected;
    let frame: Buffer;
    const stage = this._stage;
    if (this._frame !== null) {
      last.copy(this._frame, this._received);
      frame = this._frame;
    } else if (this._pieces.length === 0 && stage !== null && stage.length === expected) {
      // The staging buffer grew to exactly the frame: hand it out as is.
      last.copy(stage, this._stageLength);
      frame = stage;
    } else {
      frame = allocFrame(expected);
      let offset = 0;
      for (const piece of this._pieces) offset += piece.copy(frame, offset);
      if (stage !== null) offset += stage.copy(frame, offset, 0, this._stageLength);
      last.copy(frame, offset);
    }
    this.reset();
    return frame;
  }

  /**
   * The unfilled rest of the frame's own buffer, which is allocated on the first call (the pieces
   * received so far copied into it). Bytes written there count once {@link PayloadAssembler.filled}.
   */
  target(): Buffer {
    let frame = this._frame;
    if (frame === null) {
      frame = allocFrame(this._expected);
      let offset = 0;
      for (const piece of this._pieces) offset += piece.copy(frame, offset);
      if (this._stage !== null) this._stage.copy(frame, offset, 0, this._stageLength);
      this._pieces = [];
      this._stage = null;
      this._stageLength = 0;
      this._frame = frame;
    }
    return frame.subarray(this._received);
  }

  /** `count` more bytes were written into {@link PayloadAssembler.target}; returns the frame once complete. */
  filled(count: number): Buffer | undefined {
    this._received += count;
    if (this._received < this._expected) return undefined;
    const frame = this._frame!;
    this.reset();
    return frame;
  }

  /** Drops everything collected. */
  reset(): void {
    this._frame = null;
    if (this._pieces.length !== 0) this._pieces = [];
    this._stage = null;
    this._stageLength = 0;
    this._received = 0;
    this._expected = 0;
  }

  private _sealStage(): void {
    if (this._stage === null) return;
    this._pieces.push(this._stage.subarray(0, this._stageLength));
    this._stage = null;
    this._stageLength = 0;
  }

  private _growStage(incoming: number): Buffer {
    const old = this._stage;
    const needed = this._stageLength + incoming;
    // The stage can never need to hold more than what is left of the frame from where it starts.
    const room = this._expected - (this._received - this._stageLength);
    const capacity = Math.min(room, Math.max(needed, STAGE_MIN_BYTES, old === null ? 0 : old.length * 2));
    const stage = allocFrame(capacity);
    if (old !== null) old.copy(stage, 0, 0, this._stageLength);
    this._stage = stage;
    return stage;
  }
}
