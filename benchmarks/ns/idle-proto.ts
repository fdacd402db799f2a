// Idle @proto/ns connections: the server counts links as they open.
import { connect, createServer, type NsSocket } from '@proto/ns';
import { type IdleParams, IdleMeter, openIdle } from '../lib/idle.js';
import type { Ipc } from '../lib/ipc.js';

let meter: IdleMeter;

function onMessage(): void {}

function onConnection(socket: NsSocket): void {
  socket.data(['bench', 'msg'], onMessage);
  meter.accept();
}

export async function nsServer(params: IdleParams, ipc: Ipc) {
  meter = new IdleMeter(ipc, params);
  const server = createServer(onConnection);
  const address = await server.listen({ host: '127.0.0.1', port: 0, backlog: 1024 });
  ipc.post('ready', address.port);
  return meter.done;
}

export function nsClient(params: IdleParams, ipc: Ipc) {
  return openIdle(params, ipc, () => connect({ host: params.host, port: params.port }));
}
