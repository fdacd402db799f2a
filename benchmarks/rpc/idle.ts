// Idle authenticated @proto/rpc peers: the server counts them as they authenticate.
import { RpcClient, RpcServer } from '@proto/rpc';
import { type IdleParams, IdleMeter, openIdle } from '../lib/idle.js';
import type { Ipc } from '../lib/ipc.js';

const PASSWORD = 'bench-secret';

let meter: IdleMeter;

function onAuthenticated(): void {
  meter.accept();
}

export async function rpcIdleServer(params: IdleParams, ipc: Ipc) {
  meter = new IdleMeter(ipc, params);
  const server = new RpcServer({ password: PASSWORD });
  server.handle('math::add', (p: unknown) => {
    const { a, b } = p as { a: number; b: number };
    return a + b;
  });
  server.on('authenticated', onAuthenticated);
  const address = await server.listen({ host: '127.0.0.1', port: 0, backlog: 1024 });
  ipc.post('ready', address.port);
  return meter.done;
}

export function rpcIdleClient(params: IdleParams, ipc: Ipc) {
  return openIdle(params, ipc, async () => {
    const client = new RpcClient({ host: params.host, port: params.port, password: PASSWORD });
    await client.connect();
    return client;
  });
}
