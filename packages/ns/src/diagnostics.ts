// ns publishes on node:diagnostics_channel; `NODE_DEBUG=proto` logging is one subscriber of those
// channels (as undici does it), not a second call at every site.
import diagnosticsChannel from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

/** Names of the `node:diagnostics_channel` channels ns publishes on. */
export const NsChannels = {
  CONNECT: 'proto:ns:connect',
  DISCONNECT: 'proto:ns:disconnect',
  RECONNECT: 'proto:ns:reconnect',
} as const;

const connectChannel = diagnosticsChannel.channel(NsChannels.CONNECT);
const disconnectChannel = diagnosticsChannel.channel(NsChannels.DISCONNECT);
const reconnectChannel = diagnosticsChannel.channel(NsChannels.RECONNECT);

interface Addressed {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

/** A link opened. */
export function publishConnect(socket: Addressed, server: boolean): void {
  if (connectChannel.hasSubscribers) {
    connectChannel.publish({ socket, server, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
  }
}

/** An open link closed. */
export function publishDisconnect(socket: object, server: boolean, error: Error | undefined, willReconnect: boolean): void {
  if (disconnectChannel.hasSubscribers) disconnectChannel.publish({ socket, server, error, willReconnect });
}

/** A reconnect attempt was scheduled. */
export function publishReconnect(socket: object, attempt: number, delayMs: number, error: Error | undefined): void {
  if (reconnectChannel.hasSubscribers) reconnectChannel.publish({ socket, attempt, delayMs, error });
}

const debug = debuglog('proto');
if (debug.enabled) {
  const reason = (error: unknown): string => (error instanceof Error ? `: ${error.message}` : '');
  diagnosticsChannel.subscribe(NsChannels.CONNECT, (message) => {
    const { server, remoteAddress, remotePort } = message as { server: boolean; remoteAddress?: string; remotePort?: number };
    debug('ns: link open (%s) %s', server ? 'accepted' : 'client', remoteAddress === undefined ? 'unix socket' : `${remoteAddress}:${String(remotePort)}`);
  });
  diagnosticsChannel.subscribe(NsChannels.DISCONNECT, (message) => {
    const { error, willReconnect } = message as { error?: Error; willReconnect: boolean };
    debug('ns: link lost%s%s', reason(error), willReconnect ? ' (will reconnect)' : '');
  });
  diagnosticsChannel.subscribe(NsChannels.RECONNECT, (message) => {
    const { attempt, delayMs, error } = message as { attempt: number; delayMs: number; error?: Error };
    debug('ns client: reconnect attempt %d in %d ms%s', attempt, delayMs, reason(error));
  });
}
