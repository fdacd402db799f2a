// @proto/ns: send() until it returns false, then await drained(); the server counts with data().
import { connect, createServer, type NsSocket } from '@proto/ns';
import type { Ipc } from '../lib/ipc.js';
import { type OneWayParams, ReceiveMeter, type SendResult, sendLoop } from '../lib/oneway.js';
import { EVENT, TEXT } from './message.js';

let meter: ReceiveMeter;

function onMessage(): void {
  meter.add(1);
}

function onConnection(socket: NsSocket): void {
  socket.data(['bench', '*'], onMessage);
}

/** Counts both the JSON ['bench','msg'] and the binary ['bench','bin'] messages. */
export async function nsServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  const server = createServer(onConnection);
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  ipc.post('ready', address.port);
  return meter.done;
}

export async function nsClient(params: OneWayParams): Promise<SendResult> {
  const socket = await connect({ host: params.host, port: params.port });
  return sendLoop(params, (i) => socket.send(EVENT, { i, s: TEXT }), () => socket.drained());
}

export async function nsBinaryClient(params: OneWayParams): Promise<SendResult> {
  const socket = await connect({ host: params.host, port: params.port });
  const payload = Buffer.alloc(params.payloadBytes, 0x5a);
  return sendLoop(params, () => socket.send(['bench', 'bin'], payload), () => socket.drained());
}
