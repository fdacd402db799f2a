import { FramingErrorCode } from '@proto/framing';

export {
  AbortedError,
  BufferOverflowError,
  ClientRejectedError,
  ConnectionClosedError,
  ConnectTimeoutError,
  FrameTooLargeError,
  InvalidArgError,
  NotConnectedError,
  ProtocolError,
  ProtoError,
  UnexpectedEofError,
} from '@proto/framing';

/**
 * Stable codes of every error `@proto/ns` can raise or pass through from `@proto/framing`.
 * Branch on `err.code`, never on messages.
 *
 * ns adds no codes of its own: a malformed message is `ERR_PROTOCOL`, an invalid event name
 * `ERR_INVALID_ARG`, a full offline queue `ERR_BUFFER_OVERFLOW`, a send with no link and no queue
 * `ERR_NOT_CONNECTED`.
 */
export const NsErrorCode = Object.freeze({ ...FramingErrorCode } as const);

/** Any code in {@link NsErrorCode}. */
export type NsErrorCode = (typeof NsErrorCode)[keyof typeof NsErrorCode];
