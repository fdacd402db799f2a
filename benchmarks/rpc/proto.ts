// @proto/rpc: password-authenticated session (not timed), then math::add requests.
import { RpcClient, RpcServer } from '@proto/rpc';
import { serveUntilStopped, served } from '../lib/cpu.js';
import type { Ipc } from '../lib/ipc.js';
import { measureRequests, openMany, type RequestParams, roundRobin } from '../lib/requests.js';

const PASSWORD = 'bench-secret';

function add(params: unknown): number {
  const { a, b } = params as { a: number; b: number };
  served.count++;
  return a + b;
}

export async function rpcServer(_params: RequestParams, ipc: Ipc) {
  const server = new RpcServer({ password: PASSWORD });
  server.handle('math::add', add);
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  ipc.post('ready', address.port);
  return serveUntilStopped(ipc);
}

async function connectClient(params: RequestParams): Promise<RpcClient> {
  const client = new RpcClient({ host: params.host, port: params.port, password: PASSWORD });
  await client.connect();
  return client;
}

const addOn = (client: RpcClient, a: number, b: number) => client.request('math::add', { a, b }) as Promise<number>;

export async function rpcClient(params: RequestParams) {
  const clients = await openMany(params.clients ?? 1, () => connectClient(params));
  return measureRequests(params, roundRobin(clients, addOn));
}
