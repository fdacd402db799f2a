// Idle connections held by a raw net server and by an nssocket server.
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import nssocket from 'nssocket';
import { type IdleParams, IdleMeter, openIdle } from '../lib/idle.js';
import type { Ipc } from '../lib/ipc.js';
import { listenLoopback } from '../lib/listen.js';

let meter: IdleMeter;

function onData(): void {}

export async function rawServer(params: IdleParams, ipc: Ipc) {
  meter = new IdleMeter(ipc, params);
  // Reading with a data listener attached, as any real server would.
  const server = net.createServer({ noDelay: true }, (socket: Socket) => {
    socket.on('data', onData);
    meter.accept();
  });
  ipc.post('ready', await listenLoopback(server));
  return meter.done;
}

export function rawClient(params: IdleParams, ipc: Ipc) {
  return openIdle(params, ipc, async () => {
    const socket = net.connect({ host: params.host, port: params.port });
    await once(socket, 'connect');
    return socket;
  });
}

export async function nssocketServer(params: IdleParams, ipc: Ipc) {
  meter = new IdleMeter(ipc, params);
  const server = nssocket.createServer((socket) => {
    socket.data(['bench', 'msg'], onData);
    meter.accept();
  });
  ipc.post('ready', await listenLoopback(server));
  return meter.done;
}

export function nssocketClient(params: IdleParams, ipc: Ipc) {
  return openIdle(params, ipc, async () => {
    const socket = new nssocket.NsSocket({ type: 'tcp4' });
    await new Promise<void>((resolve) => socket.connect(params.port, params.host, resolve));
    return socket;
  });
}
