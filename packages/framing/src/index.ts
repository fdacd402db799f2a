// Curated public entry point of @proto/framing: values first, then types.

export { connect, DEFAULT_CONNECT_TIMEOUT_MS } from './connect.js';
export { FrameDecoder } from './decoder.js';
export { encodeFrame, encodeHeader } from './encoder.js';
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
export { DEFAULT_MAX_FRAME_BYTES } from './frame-options.js';
export { FramedSocket } from './framed-socket.js';
export { DEFAULT_LENGTH_PREFIX, resolveLengthPrefix } from './length-prefix.js';
export { createServer, FramedServer } from './server.js';
export { DEFAULT_RETRY_DELAY_MS } from './server-options.js';
export { DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_BUFFERED_BYTES } from './socket-options.js';

export type { SocketAddress } from './address.js';
export type { ConnectOptions, ConnectTransportOptions } from './connect.js';
export type { FrameDecoderOptions, FrameHandler } from './decoder.js';
export type { FrameEncoderOptions } from './encoder.js';
export type { FrameTooLargeDetails } from './errors.js';
export type { FrameOptions } from './frame-options.js';
export type {
  FramedSocketEvents,
  FramedSocketStats,
  FramePart,
  FramePayload,
} from './framed-socket.js';
export type { LengthPrefix, LengthPrefixCodec, LengthPrefixName } from './length-prefix.js';
export type {
  CloseOptions,
  FramedServerEvents,
  ListenOptions,
  ListenRetryEvent,
  ListenSettings,
  ServerAddress,
  ServerOptions,
} from './server-options.js';
export type { FramedSocketOptions } from './socket-options.js';
export type { PemInput, TlsClientOptions, TlsServerOptions } from './tls-options.js';
