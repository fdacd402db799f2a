// FramedSocket sending 1 MiB frames: send() until it returns false, then await drained().
import { connect, createServer, type FramedSocket } from '@proto/framing';
import type { Ipc } from '../lib/ipc.js';
import { type OneWayParams, ReceiveMeter, type SendResult, sendLoop } from '../lib/oneway.js';

let meter: ReceiveMeter;

function onFrame(): void {
  meter.add(1);
}

function onConnection(socket: FramedSocket): void {
  socket.on('frame', onFrame);
}

export async function framedServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  const server = createServer(onConnection);
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  ipc.post('ready', address.port);
  return meter.done;
}

export async function framedClient(params: OneWayParams): Promise<SendResult> {
  const socket = await connect({ host: params.host, port: params.port });
  const payload = Buffer.alloc(params.payloadBytes, 0x5a);
  return sendLoop(params, () => socket.send(payload), () => socket.drained());
}
