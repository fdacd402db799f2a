import type { ProtoError } from './errors.js';
import type { NsSocket } from './ns-socket.js';

/** Payload of `proto:ns:connect`: a link opened (client connect or reconnect, server accept). */
export interface NsConnectMessage {
  socket: NsSocket;
  /** True for a socket accepted by an NsServer. */
  server: boolean;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
}

/** Payload of `proto:ns:disconnect`: an open link closed. */
export interface NsDisconnectMessage {
  socket: NsSocket;
  server: boolean;
  /** Why it closed; undefined after a clean end on either side. */
  error: ProtoError | NodeJS.ErrnoException | undefined;
  /** True when the client will try again. */
  willReconnect: boolean;
}

/** Payload of `proto:ns:reconnect`: a reconnect attempt was scheduled. */
export interface NsReconnectMessage {
  socket: NsSocket;
  /** 1 for the first attempt after a failure. */
  attempt: number;
  delayMs: number;
  /** The failure that caused this attempt. */
  error: ProtoError | NodeJS.ErrnoException | undefined;
}
