// Worker roles of the cluster suite: servers (nodes) and a process full of clients (peers).
import { type ClusterAdapter, createMemoryCluster, createRedisCluster, RedisCluster } from '@proto/cluster';
import { RpcClient, RpcServer } from '@proto/rpc';
import { cpuMicros, epochMs } from '../lib/cpu.js';
import type { Ipc } from '../lib/ipc.js';
import { measureRequests, type RequestOutcome } from '../lib/requests.js';

const PASSWORD = 'bench-cluster-secret';

export interface NodesParams {
  /** Servers in this process. */
  count: number;
  /** `none`: no cluster (one server); `memory`: one memory cluster for them all; `redis`: one adapter each. */
  kind: 'none' | 'memory' | 'redis';
  url?: string;
  prefix: string;
  /** First node's number, for readable node ids across processes. */
  first: number;
}

/** What the orchestrator asks a nodes process to do. */
export type NodeCommand =
  | { op: 'peers'; node: number }
  | { op: 'measure'; node: number; peerId: string; concurrencies: number[]; warm: number; total: number; capMs: number }
  | { op: 'broadcast'; node: number; count: number }
  /** Post 'cpu' with this process's CPU time (µs), to charge the holding node's work to a phase. */
  | { op: 'cpu' }
  | { op: 'stop' };

/** `count` servers, listening on 127.0.0.1; posts 'ready' with their ports, then obeys 'cmd's. */
export async function nodesRole(params: NodesParams, ipc: Ipc): Promise<null> {
  const memory = params.kind === 'memory' ? createMemoryCluster() : undefined;
  const servers: RpcServer[] = [];
  const adapters: (ClusterAdapter | undefined)[] = [];
  for (let i = 0; i < params.count; i++) {
    const adapter =
      params.kind === 'redis'
        ? createRedisCluster({ url: params.url, prefix: params.prefix, nodeId: `bench-${params.first + i}` })
        : memory;
    adapters.push(adapter);
    const server = new RpcServer({ password: PASSWORD, keepAlive: false, cluster: adapter });
    server.on('error', (error) => console.error(`bench node: ${error.message}`));
    servers.push(server);
  }
  const ports: number[] = [];
  for (const server of servers) ports.push((await server.listen({ host: '127.0.0.1', port: 0 })).port);
  for (const adapter of adapters) if (adapter instanceof RedisCluster) await adapter.ready();
  ipc.post('ready', ports);
  for (;;) {
    const command = await ipc.next<NodeCommand>('cmd');
    if (command.op === 'stop') break;
    if (command.op === 'cpu') {
      ipc.post('cpu', cpuMicros());
      continue;
    }
    const server = servers[command.node]!;
    if (command.op === 'peers') ipc.post('peers', [...server.peers.keys()]);
    else if (command.op === 'measure') {
      const outcomes: RequestOutcome[] = await measureRequests(
        { host: '127.0.0.1', port: 0, ...command },
        (a, b) => server.request(command.peerId, 'math::add', { a, b }) as Promise<number>,
      );
      ipc.post('measured', outcomes);
    } else {
      const t0 = epochMs();
      for (let i = 0; i < command.count; i++) server.broadcast('bench::b', { i, text: 'hello everyone' });
      ipc.post('sent', t0);
    }
  }
  for (const server of servers) await server.close({ timeoutMs: 1000 });
  return null;
}

export interface PeersParams {
  ports: number[];
  /** Clients in total, spread round-robin over `ports`. */
  count: number;
}

function add(params: unknown): number {
  const { a, b } = params as { a: number; b: number };
  return a + b;
}

/**
 * `count` clients answering `math::add` and counting `bench::b` broadcasts. After 'ready', each
 * 'expect' `{ total }` arms a counter and is answered with 'armed'; once `total` broadcasts have
 * arrived over all clients, 'delivered' is posted with the time. 'stop' closes the clients.
 */
export async function peersRole(params: PeersParams, ipc: Ipc): Promise<null> {
  let received = 0;
  let target = Number.POSITIVE_INFINITY;
  const onBroadcast = (): void => {
    if (++received === target) ipc.post('delivered', epochMs());
  };
  const clients: RpcClient[] = [];
  for (let i = 0; i < params.count; i++) {
    const client = new RpcClient({ host: '127.0.0.1', port: params.ports[i % params.ports.length]!, password: PASSWORD, keepAlive: false });
    client.handle('math::add', add);
    client.data('bench::b', onBroadcast);
    clients.push(client);
  }
  for (let i = 0; i < clients.length; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.connect()));
  ipc.post('ready', clients.length);
  void (async () => {
    for (;;) {
      const { total } = await ipc.next<{ total: number }>('expect');
      received = 0;
      target = total;
      ipc.post('armed', null);
    }
  })();
  await ipc.next('stop');
  await Promise.all(clients.map((c) => c.close({ timeoutMs: 1000 })));
  return null;
}
