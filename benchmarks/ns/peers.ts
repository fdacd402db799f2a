// Peer libraries sending the same small message. None of them reports backpressure from send(),
// so the sender looks at the underlying net.Socket (writableNeedDrain) and waits for its 'drain'.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import axon from 'axon';
import nossock from 'nossock';
import nssocket from 'nssocket';
import type { Ipc } from '../lib/ipc.js';
import { listenLoopback } from '../lib/listen.js';
import { type OneWayParams, ReceiveMeter, type SendResult, sendLoop } from '../lib/oneway.js';
import { EVENT, EVENT_STRING, TEXT } from './message.js';

let meter: ReceiveMeter;

function onMessage(): void {
  meter.add(1);
}

function drainOf(socket: Socket): () => Promise<void> {
  return () => (socket.writableNeedDrain ? once(socket, 'drain').then(() => {}) : Promise.resolve());
}

export async function nssocketServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  const server = nssocket.createServer((socket) => socket.data([...EVENT], onMessage));
  ipc.post('ready', await listenLoopback(server));
  return meter.done;
}

export async function nssocketClient(params: OneWayParams): Promise<SendResult> {
  const client = new nssocket.NsSocket({ type: 'tcp4' });
  await new Promise<void>((resolve) => client.connect(params.port, params.host, resolve));
  const event = [...EVENT];
  return sendLoop(
    params,
    (i) => {
      client.send(event, { i, s: TEXT });
      return !client.socket.writableNeedDrain;
    },
    drainOf(client.socket),
  );
}

export async function nossockServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  const server = nossock.createServer('tcp', {}, (socket) => socket.on(EVENT_STRING, onMessage));
  ipc.post('ready', await listenLoopback(server));
  return meter.done;
}

export async function nossockClient(params: OneWayParams): Promise<SendResult> {
  const client = await new Promise<ReturnType<typeof nossock.createClient>>((resolve) => {
    nossock.createClient('tcp', { host: params.host, port: params.port }, resolve);
  });
  return sendLoop(
    params,
    (i) => {
      client.send(EVENT_STRING, { i, s: TEXT });
      return !client.socket.writableNeedDrain;
    },
    drainOf(client.socket),
  );
}

export async function axonServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  const pull = axon.socket('pull');
  pull.on('message', onMessage);
  await new Promise<void>((resolve) => pull.bind(0, '127.0.0.1', resolve));
  ipc.post('ready', (pull as unknown as { address(): { port: number } }).address().port);
  return meter.done;
}

export async function axonClient(params: OneWayParams): Promise<SendResult> {
  const push = axon.socket('push');
  await new Promise<void>((resolve) => push.connect(params.port, params.host, resolve));
  const socket = push.socks[0];
  if (socket === undefined) throw new Error('axon push has no socket');
  return sendLoop(
    params,
    (i) => {
      push.send(EVENT_STRING, { i, s: TEXT });
      return !socket.writableNeedDrain;
    },
    drainOf(socket),
  );
}

export async function nossockBinaryServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  const server = nossock.createServer('tcp', {}, (socket) => socket.on('bench::bin', onMessage));
  ipc.post('ready', await listenLoopback(server));
  return meter.done;
}

export async function nossockBinaryClient(params: OneWayParams): Promise<SendResult> {
  const client = await new Promise<ReturnType<typeof nossock.createClient>>((resolve) => {
    nossock.createClient('tcp', { host: params.host, port: params.port }, resolve);
  });
  const payload = Buffer.alloc(params.payloadBytes, 0x5a);
  return sendLoop(
    params,
    () => {
      client.send('bench::bin', payload);
      return !client.socket.writableNeedDrain;
    },
    drainOf(client.socket),
  );
}
