import diagnosticsChannel from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import { type AuthMessage, type ErrorMessage, RpcChannels, type TimeoutMessage } from './diagnostics.js';

// `NODE_DEBUG=proto` logging, as undici does it: one subscriber of the diagnostics channels that
// formats what the code publishes, instead of a second call at every site. Loaded for its effect
// by the client and the server; subscribes only when the debug log is on.
const debug = debuglog('proto');

function onAuth(message: unknown): void {
  const { side, address, ok, reason, peerId } = message as AuthMessage;
  if (ok) debug('rpc %s: authenticated %s%s', side, address ?? '(unix socket)', peerId === undefined ? '' : ` as ${peerId}`);
  else debug('rpc %s: authentication failed from %s: %s', side, address ?? '(unix socket)', reason);
}

function onTimeout(message: unknown): void {
  const { side, peerId } = message as TimeoutMessage;
  debug('rpc %s: keepalive timeout for %s, dropping the link', side, peerId);
}

function onError(message: unknown): void {
  const { side, peerId, error, emitted, context } = message as ErrorMessage;
  const where = peerId === undefined ? '' : ` (${peerId})`;
  if (context !== undefined) debug('rpc %s: could not %s%s: %s', side, context, where, error.message);
  else debug('rpc %s: %s error%s: %s', side, emitted ? 'emitted' : 'unobserved', where, error.message);
}

if (debug.enabled) {
  diagnosticsChannel.subscribe(RpcChannels.auth, onAuth);
  diagnosticsChannel.subscribe(RpcChannels.timeout, onTimeout);
  diagnosticsChannel.subscribe(RpcChannels.error, onError);
}
