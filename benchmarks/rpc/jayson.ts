// jayson's TCP server, driven by jayson's own TCP client (a new connection per request) and by a
// persistent pipelined NDJSON client written here (one connection, ids in a Map, writes batched per tick).
import type { Socket } from 'node:net';
import jayson from 'jayson';
import { serveUntilStopped, served } from '../lib/cpu.js';
import type { Ipc } from '../lib/ipc.js';
import { listenLoopback } from '../lib/listen.js';
import { measureRequests, type RequestParams } from '../lib/requests.js';
import { connectRaw } from '../tcp/raw.js';

export async function jaysonServer(_params: RequestParams, ipc: Ipc) {
  const server = new jayson.Server({
    add(args: { a: number; b: number }, callback: (error: null, result: number) => void) {
      served.count++;
      callback(null, args.a + args.b);
    },
  });
  const tcp = server.tcp();
  ipc.post('ready', await listenLoopback(tcp));
  return serveUntilStopped(ipc);
}

export function jaysonClient(params: RequestParams) {
  const client = jayson.Client.tcp({ host: params.host, port: params.port });
  return measureRequests(params, (a, b) =>
    new Promise<number>((resolve, reject) => {
      client.request('add', { a, b }, (error: unknown, response: { result: number; error?: unknown }) => {
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else if (response.error !== undefined) reject(new Error(JSON.stringify(response.error)));
        else resolve(response.result);
      });
    }),
  );
}

const pending = new Map<number, (result: number) => void>();

function onLines(this: Socket & { lineBuffer: string }, chunk: string): void {
  const text = this.lineBuffer + chunk;
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    const response = JSON.parse(text.slice(start, end)) as { id: number; result: number };
    start = end + 1;
    const resolve = pending.get(response.id);
    if (resolve === undefined) throw new Error(`response to unknown request ${response.id}`);
    pending.delete(response.id);
    resolve(response.result);
  }
  this.lineBuffer = text.slice(start);
}

export async function pipelinedClient(params: RequestParams) {
  const socket = Object.assign(await connectRaw(params), { lineBuffer: '' });
  socket.setEncoding('utf8');
  socket.on('data', onLines);
  let batch = '';
  const flush = () => {
    socket.write(batch);
    batch = '';
  };
  let nextId = 0;
  return measureRequests(params, (a, b) => {
    const id = nextId++;
    if (batch === '') process.nextTick(flush);
    batch += `${JSON.stringify({ jsonrpc: '2.0', id, method: 'add', params: { a, b } })}\n`;
    return new Promise<number>((resolve) => pending.set(id, resolve));
  });
}
