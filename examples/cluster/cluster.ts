// Three RpcServers acting as one: broadcast reaches every node's clients, a request by peer id
// reaches a client wherever it is connected, clusterPeers() lists them all.
//   npx tsx --conditions=@proto/source examples/cluster/cluster.ts                       (in one process)
//   REDIS_URL=redis://127.0.0.1:6379 npx tsx --conditions=@proto/source examples/cluster/cluster.ts  (over Redis)
import { type ClusterAdapter, createMemoryCluster, createRedisCluster, RedisCluster } from '@proto/cluster';
import { RpcClient, RpcErrorCode, RpcServer } from '@proto/rpc';

const password = 'cluster-example-secret';
const redisUrl = process.env.REDIS_URL;
let failures = 0;
function check(ok: boolean, what: string): void {
  if (!ok) {
    failures++;
    console.error(`  ✗ expected ${what}`);
  }
}

// One memory cluster shared by the three servers, or one Redis adapter per server (as on three machines).
const memory = createMemoryCluster();
const adapters: ClusterAdapter[] = [0, 1, 2].map((i) =>
  redisUrl === undefined ? memory : createRedisCluster({ url: redisUrl, prefix: `example-${process.pid}`, nodeId: `node-${i + 1}` }),
);
console.log(redisUrl === undefined ? 'three nodes on the in-process memory cluster' : `three nodes on Redis at ${redisUrl}`);

const servers = adapters.map((cluster) => new RpcServer({ password, cluster }));
for (const server of servers) server.on('error', (error) => console.error(`server error: ${error.message}`));
const ports: number[] = [];
for (const server of servers) ports.push((await server.listen({ host: '127.0.0.1', port: 0 })).port);
for (const adapter of adapters) if (adapter instanceof RedisCluster) await adapter.ready();

// One client per server: a chat user on each node.
const names = ['ada', 'brian', 'chen'];
const clients = await Promise.all(
  names.map(async (username, i) => {
    const client = new RpcClient({ host: '127.0.0.1', port: ports[i]!, password, username });
    client.handle('user::whoami', () => `${username} on node-${i + 1}`);
    await client.connect();
    return client;
  }),
);

// Who is where, from any node.
const peers = await servers[0]!.clusterPeers();
for (const peer of peers.sort((a, b) => a.username.localeCompare(b.username))) {
  console.log(`  ${peer.username.padEnd(6)} ${peer.nodeId}  ${peer.id}`);
}
check(peers.length === 3, 'three peers in the cluster');

// Broadcast from node 1 reaches the clients of all three nodes, once each.
const heard = clients.map(
  (client, i) =>
    new Promise<void>((resolve) =>
      client.data('chat::message', (message) => {
        console.log(`  ${names[i]} heard: ${JSON.stringify(message)}`);
        resolve();
      }),
    ),
);
const local = servers[0]!.broadcast('chat::message', { from: 'node-1', text: 'hello, everyone' });
await Promise.all(heard);
check(local === 1, 'one local client on node 1');

// A request from node 1 to chen, who is connected to node 3.
const chen = peers.find((peer) => peer.username === 'chen')!;
const answer = await servers[0]!.request(chen.id, 'user::whoami');
console.log(`node-1 asked ${chen.id}: ${String(answer)}`);
check(answer === 'chen on node-3', 'chen on node-3');

// A peer no node holds fails at once, not after a timeout.
const missing = await servers[1]!.request(`${chen.nodeId}:gone:1`, 'user::whoami').catch((error: { code: string }) => error.code);
console.log(`request to a peer nobody holds: ${String(missing)}`);
check(missing === RpcErrorCode.PEER_NOT_FOUND, RpcErrorCode.PEER_NOT_FOUND);

for (const client of clients) await client.close();
for (const server of servers) await server.close();
if (failures > 0) process.exit(1);
console.log('done');
