// Raw net baselines for small namespaced JSON messages: the message is JSON ["bench","msg",data],
// sent as NDJSON, as a length-prefixed frame per write, or length-prefixed with per-tick coalescing.
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import { CoalescingWriter } from '../lib/coalescing-writer.js';
import type { Ipc } from '../lib/ipc.js';
import { listenLoopback } from '../lib/listen.js';
import { MinimalDecoder } from '../lib/minimal-decoder.js';
import { type OneWayParams, ReceiveMeter, type SendResult, sendLoop } from '../lib/oneway.js';
import { connectRaw } from '../tcp/raw.js';
import { TEXT } from './message.js';

let meter: ReceiveMeter;

function onMessage(message: unknown): void {
  if (Array.isArray(message) && message[0] === 'bench' && message[1] === 'msg') meter.add(1);
}

function onFrame(frame: Buffer): void {
  onMessage(JSON.parse(frame.toString('utf8')));
}

function onFramedData(this: Socket & { decoder: MinimalDecoder }, chunk: Buffer): void {
  this.decoder.push(chunk, onFrame);
}

function onLines(this: Socket & { lineBuffer: string }, chunk: string): void {
  const text = this.lineBuffer + chunk;
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    onMessage(JSON.parse(text.slice(start, end)));
    start = end + 1;
  }
  this.lineBuffer = text.slice(start);
}

export async function framedServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  const server = net.createServer({ noDelay: true }, (socket) => {
    Object.assign(socket, { decoder: new MinimalDecoder() }).on('data', onFramedData);
  });
  ipc.post('ready', await listenLoopback(server));
  return meter.done;
}

export async function ndjsonServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.setEncoding('utf8');
    Object.assign(socket, { lineBuffer: '' }).on('data', onLines);
  });
  ipc.post('ready', await listenLoopback(server));
  return meter.done;
}

function socketDrain(socket: Socket): () => Promise<void> {
  return () => once(socket, 'drain').then(() => {});
}

export async function ndjsonClient(params: OneWayParams): Promise<SendResult> {
  const socket = await connectRaw(params);
  return sendLoop(params, (i) => socket.write(`${JSON.stringify(['bench', 'msg', { i, s: TEXT }])}\n`), socketDrain(socket));
}

/** One allocation and one socket.write per message (header and JSON written into the same buffer). */
export async function framedClient(params: OneWayParams): Promise<SendResult> {
  const socket = await connectRaw(params);
  const send = (i: number) => {
    const json = JSON.stringify(['bench', 'msg', { i, s: TEXT }]);
    const frame = Buffer.allocUnsafe(4 + Buffer.byteLength(json));
    frame.writeUInt32BE(frame.length - 4, 0);
    frame.write(json, 4, 'utf8');
    return socket.write(frame);
  };
  return sendLoop(params, send, socketDrain(socket));
}

export async function coalescingClient(params: OneWayParams): Promise<SendResult> {
  const writer = new CoalescingWriter(await connectRaw(params));
  return sendLoop(params, (i) => writer.writeString(JSON.stringify(['bench', 'msg', { i, s: TEXT }])), () => writer.drained());
}
