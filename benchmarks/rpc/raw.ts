// Raw baseline: length-prefixed JSON over one connection, Map correlation, per-tick write coalescing
// on both sides. The least a request/response protocol over TCP can do.
import net, { type Socket } from 'node:net';
import { CoalescingWriter } from '../lib/coalescing-writer.js';
import { serveUntilStopped, served } from '../lib/cpu.js';
import type { Ipc } from '../lib/ipc.js';
import { listenLoopback } from '../lib/listen.js';
import { MinimalDecoder } from '../lib/minimal-decoder.js';
import { measureRequests, openMany, type RequestParams, roundRobin } from '../lib/requests.js';
import { connectRaw } from '../tcp/raw.js';

interface Request {
  id: number;
  method: string;
  params: { a: number; b: number };
}

type Conn = Socket & { decoder: MinimalDecoder; writer: CoalescingWriter };

let current: Conn;

function onRequestFrame(frame: Buffer): void {
  const request = JSON.parse(frame.toString('utf8')) as Request;
  if (request.method !== 'add') throw new Error(`unknown method ${request.method}`);
  served.count++;
  current.writer.writeString(JSON.stringify({ id: request.id, result: request.params.a + request.params.b }));
}

function onServerData(this: Conn, chunk: Buffer): void {
  current = this;
  this.decoder.push(chunk, onRequestFrame);
}

export async function rawServer(_params: RequestParams, ipc: Ipc) {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const conn = Object.assign(socket, { decoder: new MinimalDecoder() }) as Conn;
    conn.writer = new CoalescingWriter(socket);
    conn.on('data', onServerData);
  });
  ipc.post('ready', await listenLoopback(server));
  return serveUntilStopped(ipc);
}

const pending = new Map<number, (result: number) => void>();

function onResponseFrame(frame: Buffer): void {
  const response = JSON.parse(frame.toString('utf8')) as { id: number; result: number };
  const resolve = pending.get(response.id);
  if (resolve === undefined) throw new Error(`response to unknown request ${response.id}`);
  pending.delete(response.id);
  resolve(response.result);
}

async function connectWriter(params: RequestParams): Promise<CoalescingWriter> {
  const socket = await connectRaw(params);
  const decoder = new MinimalDecoder();
  socket.on('data', (chunk: Buffer) => decoder.push(chunk, onResponseFrame));
  return new CoalescingWriter(socket);
}

// Ids are unique across connections, so one pending map serves them all.
let nextId = 0;

function addOn(writer: CoalescingWriter, a: number, b: number): Promise<number> {
  const id = nextId++;
  writer.writeString(JSON.stringify({ id, method: 'add', params: { a, b } }));
  return new Promise<number>((resolve) => pending.set(id, resolve));
}

export async function rawClient(params: RequestParams) {
  const writers = await openMany(params.clients ?? 1, () => connectWriter(params));
  return measureRequests(params, roundRobin(writers, addOn));
}
