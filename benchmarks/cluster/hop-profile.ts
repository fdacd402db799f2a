// Ad-hoc: two Redis-cluster servers and a client in one process; CPU µs per cross-node request.
// node --conditions=@proto/source --import tsx benchmarks/cluster/hop-profile.ts [concurrency] [count] [redis|memory]
import { createMemoryCluster, createRedisCluster, type RedisCluster } from '@proto/cluster';
import { RpcClient, RpcServer } from '@proto/rpc';
import { RedisServer } from '../../testing/redis-server.js';

const concurrency = Number(process.argv[2] ?? 32);
const count = Number(process.argv[3] ?? 20000);
const redis = new RedisServer();
await redis.start();
const memory = process.argv[4] === 'memory' ? createMemoryCluster() : undefined;
const a = memory ?? createRedisCluster({ url: redis.url, nodeId: 'a' });
const b = memory ?? createRedisCluster({ url: redis.url, nodeId: 'b' });
const sa = new RpcServer({ password: 'p', keepAlive: false, cluster: a });
const sb = new RpcServer({ password: 'p', keepAlive: false, cluster: b });
await sa.listen({ host: '127.0.0.1', port: 0 });
await sb.listen({ host: '127.0.0.1', port: 0 });
if (memory === undefined) await (a as RedisCluster).ready();
if (memory === undefined) await (b as RedisCluster).ready();
const client = new RpcClient({ host: '127.0.0.1', port: sb.address().port, password: 'p', keepAlive: false });
client.handle('math::add', (p) => (p as { a: number; b: number }).a + (p as { a: number; b: number }).b);
const joined = new Promise<string>((resolve) => sb.once('authenticated', (peer) => resolve(peer.id)));
await client.connect();
const peerId = await joined;
async function run(n: number): Promise<void> {
  let issued = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < n) {
        const i = issued++;
        if ((await sa.request(peerId, 'math::add', { a: i, b: 1 })) !== i + 1) throw new Error('bad');
      }
    }),
  );
}
await run(2000);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await run(count);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(`c=${concurrency} n=${count}: ${((count / ms) * 1000).toFixed(0)} req/s, ${((cpu.user + cpu.system) / count).toFixed(1)} CPU µs/req (servers+client, one process; redis-server excluded)`);
await client.close();
await sa.close();
await sb.close();
await redis.stop();
