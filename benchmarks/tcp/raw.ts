// Raw net.Socket contenders for the 1 MiB transfer: the bytes alone, and a naive length-prefixed sender.
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import type { Ipc } from '../lib/ipc.js';
import { listenLoopback } from '../lib/listen.js';
import { MinimalDecoder } from '../lib/minimal-decoder.js';
import { type OneWayParams, ReceiveMeter, type SendResult, sendLoop } from '../lib/oneway.js';

let meter: ReceiveMeter;
let decoder: MinimalDecoder;

function onBytes(chunk: Buffer): void {
  meter.add(chunk.length);
}

function onFrame(): void {
  meter.add(1);
}

function onFramedBytes(chunk: Buffer): void {
  decoder.push(chunk, onFrame);
}

/** Receiver counting bytes: the limit of the link. */
export async function bytesServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params, params.payloadBytes);
  const server = net.createServer({ noDelay: true }, (socket) => socket.on('data', onBytes));
  ipc.post('ready', await listenLoopback(server));
  return meter.done;
}

/** Receiver decoding uint32be frames with the minimal decoder. */
export async function framesServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  decoder = new MinimalDecoder();
  const server = net.createServer({ noDelay: true }, (socket) => socket.on('data', onFramedBytes));
  ipc.post('ready', await listenLoopback(server));
  return meter.done;
}

export async function connectRaw(params: { host: string; port: number }): Promise<Socket> {
  const socket = net.connect({ host: params.host, port: params.port, noDelay: true });
  await once(socket, 'connect');
  return socket;
}

/** Streams the payload over and over, no framing at all. */
export async function bytesClient(params: OneWayParams): Promise<SendResult> {
  const socket = await connectRaw(params);
  const payload = Buffer.alloc(params.payloadBytes, 0x5a);
  return sendLoop(params, () => socket.write(payload), () => once(socket, 'drain').then(() => {}));
}

/** One Buffer.concat(header, payload) per frame: the common hand-rolled sender. */
export async function concatClient(params: OneWayParams): Promise<SendResult> {
  const socket = await connectRaw(params);
  const payload = Buffer.alloc(params.payloadBytes, 0x5a);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return sendLoop(params, () => socket.write(Buffer.concat([header, payload])), () => once(socket, 'drain').then(() => {}));
}
