export {
  AbortedError,
  BufferOverflowError,
  ClientRejectedError,
  ConnectionClosedError,
  ConnectTimeoutError,
  FramingErrorCode,
  FrameTooLargeError,
  InvalidArgError,
  NotConnectedError,
  ProtocolError,
  ProtoError,
  UnexpectedEofError,
} from './errors.js';
