const kProtoError = Symbol.for('@proto/error');

/** Stable codes of the errors `@proto/framing` raises. Branch on `err.code`, not on messages. */
export const FramingErrorCode = Object.freeze({
  FRAME_TOO_LARGE: 'ERR_FRAME_TOO_LARGE',
  UNEXPECTED_EOF: 'ERR_UNEXPECTED_EOF',
  BUFFER_OVERFLOW: 'ERR_BUFFER_OVERFLOW',
  NOT_CONNECTED: 'ERR_NOT_CONNECTED',
  CONNECTION_CLOSED: 'ERR_CONNECTION_CLOSED',
  PROTOCOL: 'ERR_PROTOCOL',
  INVALID_ARG: 'ERR_INVALID_ARG',
  ABORTED: 'ERR_ABORTED',
  CONNECT_TIMEOUT: 'ERR_CONNECT_TIMEOUT',
  CLIENT_REJECTED: 'ERR_CLIENT_REJECTED',
} as const);

/** Any code in {@link FramingErrorCode}. */
export type FramingErrorCode = (typeof FramingErrorCode)[keyof typeof FramingErrorCode];

/**
 * Base class of every error the @proto packages raise. Each subclass stands for one condition and
 * carries a stable `code`. `instanceof` works across duplicate copies of the package because it is
 * keyed on a registered symbol and the code, not on object identity.
 */
export class ProtoError extends Error {
  /** The stable code of this condition, for example `ERR_FRAME_TOO_LARGE`. */
  static readonly code: string = 'ERR_PROTO';
  /** The stable code of this condition, for example `ERR_FRAME_TOO_LARGE`. */
  readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = (new.target as typeof ProtoError).code;
    this.name = new.target.name;
    Object.defineProperty(this, kProtoError, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as Record<symbol, unknown>)[kProtoError] !== true) return false;
    return this === ProtoError || (value as { code?: unknown }).code === this.code;
  }
}

/** Details of a {@link FrameTooLargeError} raised for an inbound header. */
export interface FrameTooLargeDetails extends ErrorOptions {
  /** The header bytes as received (a copy). */
  headerBytes?: Buffer | undefined;
  /** The payload length the header announced. */
  announcedBytes?: number | undefined;
}

/**
 * A frame's announced or actual length exceeds `maxFrameBytes`. Raised for an inbound header, it
 * carries the header bytes as received: a peer speaking another protocol shows up there (an HTTP
 * server's reply starts with `48 54 54 50`, "HTTP").
 */
export class FrameTooLargeError extends ProtoError {
  static override readonly code = FramingErrorCode.FRAME_TOO_LARGE;
  /** The offending header's bytes as received (a copy); `undefined` for a frame refused by `send()`. */
  readonly headerBytes: Buffer | undefined;
  /** The length the inbound header announced; `undefined` for a frame refused by `send()`. */
  readonly announcedBytes: number | undefined;

  constructor(message: string, options?: FrameTooLargeDetails) {
    super(message, options);
    this.headerBytes = options?.headerBytes;
    this.announcedBytes = options?.announcedBytes;
  }
}

/** The stream ended in the middle of a frame. */
export class UnexpectedEofError extends ProtoError {
  static override readonly code = FramingErrorCode.UNEXPECTED_EOF;
}

/** Sending would take the outbound buffer past `maxBufferedBytes` (or a queue past its bounds). */
export class BufferOverflowError extends ProtoError {
  static override readonly code = FramingErrorCode.BUFFER_OVERFLOW;
}

/** The operation needs a live connection and there is none. */
export class NotConnectedError extends ProtoError {
  static override readonly code = FramingErrorCode.NOT_CONNECTED;
}

/** The connection closed while the operation was pending. */
export class ConnectionClosedError extends ProtoError {
  static override readonly code = FramingErrorCode.CONNECTION_CLOSED;
}

/** The peer sent bytes that break the protocol (malformed frame or message, bad version, ...). */
export class ProtocolError extends ProtoError {
  static override readonly code = FramingErrorCode.PROTOCOL;
}

/** An argument or option is invalid. */
export class InvalidArgError extends ProtoError {
  static override readonly code = FramingErrorCode.INVALID_ARG;
}

/** The operation was cancelled through an `AbortSignal`. */
export class AbortedError extends ProtoError {
  static override readonly code = FramingErrorCode.ABORTED;
}

/** Connecting took longer than `connectTimeoutMs`. */
export class ConnectTimeoutError extends ProtoError {
  static override readonly code = FramingErrorCode.CONNECT_TIMEOUT;
}

/** A TLS client was refused by `isClientAllowed` (or presented no acceptable certificate). */
export class ClientRejectedError extends ProtoError {
  static override readonly code = FramingErrorCode.CLIENT_REJECTED;
}
