// net-ipc and axon req/rep, each with its own client and server.
import axon from 'axon';
import { Client, Server } from 'net-ipc';
import { serveUntilStopped, served } from '../lib/cpu.js';
import type { Ipc } from '../lib/ipc.js';
import { freeLoopbackPort } from '../lib/listen.js';
import { measureRequests, openMany, type RequestParams, roundRobin } from '../lib/requests.js';

interface AddParams {
  a: number;
  b: number;
}

export async function netIpcServer(_params: RequestParams, ipc: Ipc) {
  // net-ipc treats port 0 as "no port" and falls back to a Unix socket, so pick a free port first.
  const port = await freeLoopbackPort();
  const server = new Server({ port, listenOptions: { host: '127.0.0.1' } });
  server.on('request', (request: AddParams, response) => {
    served.count++;
    void response(request.a + request.b);
  });
  await server.start();
  ipc.post('ready', port);
  return serveUntilStopped(ipc);
}

async function connectNetIpc(params: RequestParams): Promise<Client> {
  const client = new Client({ host: params.host, port: params.port });
  await client.connect();
  return client;
}

const netIpcAdd = (client: Client, a: number, b: number) => client.request({ a, b }) as Promise<number>;

export async function netIpcClient(params: RequestParams) {
  const clients = await openMany(params.clients ?? 1, () => connectNetIpc(params));
  return measureRequests(params, roundRobin(clients, netIpcAdd));
}

function onAxonRequest(request: AddParams, reply: (result: number) => void): void {
  served.count++;
  reply(request.a + request.b);
}

export async function axonServer(_params: RequestParams, ipc: Ipc) {
  const rep = axon.socket('rep');
  rep.on('message', onAxonRequest);
  await new Promise<void>((resolve) => rep.bind(0, '127.0.0.1', resolve));
  ipc.post('ready', (rep as unknown as { address(): { port: number } }).address().port);
  return serveUntilStopped(ipc);
}

export async function axonClient(params: RequestParams) {
  const req = axon.socket('req');
  await new Promise<void>((resolve) => req.connect(params.port, params.host, resolve));
  return measureRequests(params, (a, b) => new Promise<number>((resolve) => req.send({ a, b }, resolve)));
}
