// Curated public entry point of @proto/rpc: values first, then types. Users of rpc never need to
// import @proto/ns or @proto/framing: the errors and option types they meet are re-exported here.

export { RpcClient } from './rpc-client.js';
export { RpcServer } from './rpc-server.js';
export { RpcPeer } from './peer.js';
export { defineContract } from './contract.js';
export { RpcChannels } from './diagnostics.js';
export { DEFAULT_KEEPALIVE } from './keepalive.js';
export { DESCRIBE_METHOD } from './describe.js';
export {
  AbortedError,
  AuthFailedError,
  AuthTimeoutError,
  BufferOverflowError,
  ClusterUnavailableError,
  ConnectionClosedError,
  FrameTooLargeError,
  InvalidArgError,
  InvalidParamsError,
  InvalidResultError,
  KeepAliveTimeoutError,
  MethodNotFoundError,
  NotConnectedError,
  OverloadedError,
  PeerNotFoundError,
  ProtocolError,
  ProtoError,
  RemoteError,
  RequestTimeoutError,
  ResultTooLargeError,
  RpcError,
  RpcErrorCode,
  UnexpectedEofError,
} from './errors.js';
export { ClientRejectedError, ConnectTimeoutError } from '@proto/ns';

export type { RpcConnectOptions, RpcEndOptions, RpcClientEvents, RpcClientOptions } from './client-options.js';
export type { RequestArgs } from './request-args.js';
export type { AuthFailedInfo, Authenticate, RpcServerEvents, RpcServerOptions } from './server-options.js';
export type { ServerDataListener } from './server-data.js';
export type { AuthFailureReason, AuthInfo } from './server-handshake.js';
export type { RpcPeerStats } from './peer.js';
export type { ClusterAdapter, ClusterHost, ClusterMember, ClusterPeerInfo, ClusterStreamOptions } from './cluster-adapter.js';
export type { DescribedMethod, DescribeResult, JsonSchema } from './describe.js';
export type { Handler, RequestContext } from './inbound-call.js';
export type { RequestOptions } from './request-options.js';
export type { StreamContext, StreamHandler, StreamOptions } from './stream-types.js';
export type {
  ItemInput,
  ItemOutput,
  StreamArgs,
  StreamInputInput,
  StreamInputOutput,
  StreamMethodName,
  StreamParamsInput,
  StreamParamsOutput,
  StreamSchemas,
} from './stream-contract.js';
export type { StreamEndMessage, StreamStartMessage } from './stream-diagnostics.js';
export type { StreamDirection } from './stream-wire.js';
export type { KeepAliveOptions, KeepAliveSetting } from './keepalive.js';
export type { AuthThrottleOptions } from './auth-throttle.js';
export type { RpcCommonOptions } from './options.js';
export type {
  Contract,
  ContractDefinition,
  ContractOptions,
  MethodName,
  MethodSchemas,
  ParamsInput,
  ParamsOutput,
  ResultInput,
  ResultOutput,
  UntypedMethods,
} from './contract.js';
export type {
  AuthMessage,
  RequestDirection,
  RequestEndMessage,
  RequestErrorMessage,
  RequestStartMessage,
  RpcSide,
  ErrorMessage,
  TimeoutMessage,
} from './diagnostics.js';
export type {
  DataListener,
  EventPattern,
  FramedSocketOptions,
  LengthPrefix,
  ListenOptions,
  NsReconnectingInfo,
  OfflineQueueOptions,
  PemInput,
  ReconnectOptions,
  ServerAddress,
  SocketAddress,
  TlsClientOptions,
  TlsServerOptions,
} from '@proto/ns';
