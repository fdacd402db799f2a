// Curated public entry point of @proto/ns: values first, then types. Users of ns never need to
// import @proto/framing: its errors, limits and option types are re-exported here.

export { DEFAULT_RECONNECT } from './backoff.js';
export { connect } from './connect.js';
export { NsChannels } from './diagnostics.js';
export {
  AbortedError,
  BufferOverflowError,
  ClientRejectedError,
  ConnectionClosedError,
  ConnectTimeoutError,
  FrameTooLargeError,
  InvalidArgError,
  NotConnectedError,
  NsErrorCode,
  ProtocolError,
  ProtoError,
  UnexpectedEofError,
} from './errors.js';
export { EVENT_DELIMITER, MAX_EVENT_NAME_BYTES, MAX_EVENT_SEGMENT_BYTES, RESERVED_EVENT_SEGMENTS } from './event-name.js';
export { EXTENSION_TYPE_MAX, EXTENSION_TYPE_MIN } from './extension.js';
export { MessageType, NsMessageType, PROTOCOL_VERSION } from './message.js';
export { NsSocket } from './ns-socket.js';
export { DEFAULT_END_TIMEOUT_MS } from './options.js';
export { DEFAULT_OFFLINE_QUEUE } from './offline-queue.js';
export { createServer, DEFAULT_HELLO_TIMEOUT_MS, NsServer } from './server.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
} from '@proto/framing';

export type { ReconnectOptions } from './backoff.js';
export type { NsConnectMessage, NsDisconnectMessage, NsReconnectMessage } from './channel-messages.js';
export type {
  DataListener,
  DefaultEvents,
  EventData,
  EventKey,
  EventMap,
  EventName,
  EventPattern,
  EventSegments,
  MatchingEvents,
  PatternData,
  SendArgs,
} from './event-types.js';
export type { NsExtensionHooks, NsExtensionSocket } from './extension.js';
export type { NsConnectOptions, NsExtension, NsSocketOptions } from './ns-socket.js';
export type { OfflineQueueOptions } from './offline-queue.js';
export type { NsClientOptions, NsEndOptions, NsTransportOptions } from './options.js';
export type { NsServerEvents, NsServerOptions } from './server.js';
export type { NsReconnectingInfo, NsResumedInfo, NsSessionLostInfo, NsSocketEvents, NsSocketState, NsSocketStats } from './socket-events.js';
export type { ResumeOptions } from './resume-options.js';
export type { SessionLostReason } from './session-messages.js';
export type {
  CloseOptions,
  ConnectTransportOptions,
  FramedSocketOptions,
  FramePart,
  FramePayload,
  LengthPrefix,
  LengthPrefixCodec,
  LengthPrefixName,
  ListenOptions,
  ListenRetryEvent,
  ListenSettings,
  PemInput,
  ServerAddress,
  ServerOptions,
  SocketAddress,
  TlsClientOptions,
  TlsServerOptions,
} from '@proto/framing';
