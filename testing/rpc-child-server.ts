/**
 * An RpcServer in its own process, started by testing/child-server.ts (child_process.fork) for tests
 * that kill the server (SIGKILL) or need a file-descriptor limit of their own (load tests).
 *
 * Configuration comes from the environment:
 * - PROTO_CHILD_PORT: port to listen on (default 0: any), on 127.0.0.1
 * - PROTO_CHILD_PASSWORD: the shared secret
 * - PROTO_CHILD_OPTIONS: JSON of extra RpcServer options (keepAlive, maxPendingAuth, authThrottle...)
 * - PROTO_CHILD_CLUSTER: JSON of `createRedisCluster` options: the server joins that Redis cluster
 *
 * Handlers:
 * - `echo(params)` returns params
 * - `commit({ id })` reports `{ type: 'ack', id }` over IPC and waits until it is written to the
 *   pipe, then answers `{ id }`: an answer the client got was always logged first
 * - `hold({ id })` reports `{ type: 'start', id }` and never answers (until cancelled)
 *
 * IPC in: `{ type: 'stats' }` (answered with memory, peers, handles), `{ type: 'gc' }` (with
 * --expose-gc: answered with memory after a full GC), `{ type: 'waitPeers', count }` (answered once at
 * most `count` clients are authenticated), `{ type: 'close' }`.
 * IPC out: `{ type: 'listening', port }` once listening.
 */
import { RpcServer, type RpcServerOptions } from '../packages/rpc/src/index.js';

type ParentMessage = { type: 'stats' } | { type: 'close' } | { type: 'gc' } | { type: 'waitPeers'; count: number };

function send(message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

const extra = JSON.parse(process.env.PROTO_CHILD_OPTIONS ?? '{}') as Partial<RpcServerOptions>;
const clusterOptions = process.env.PROTO_CHILD_CLUSTER;
const cluster =
  clusterOptions === undefined ? undefined : (await import('../packages/cluster/src/index.js')).createRedisCluster(JSON.parse(clusterOptions));
const server = new RpcServer({ password: process.env.PROTO_CHILD_PASSWORD ?? 'secret', ...extra, cluster });
let handled = 0;
server.on('error', () => {});
server.handle('echo', (params) => {
  handled++;
  return params;
});
server.handle('commit', async (params) => {
  handled++;
  const { id } = params as { id: number };
  await send({ type: 'ack', id });
  return { id };
});
server.handle('hold', (params, ctx) => {
  const { id } = params as { id: number };
  void send({ type: 'start', id });
  return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
});

process.on('message', (message: ParentMessage) => {
  if (message.type === 'stats') {
    void send({
      type: 'stats',
      memory: process.memoryUsage(),
      peers: server.peers.size,
      handled,
      resources: process.getActiveResourcesInfo().length,
    });
  } else if (message.type === 'gc') {
    (globalThis as { gc?: () => void }).gc?.();
    void send({ type: 'gc-done', memory: process.memoryUsage() });
  } else if (message.type === 'waitPeers') {
    const check = (): void => {
      if (server.peers.size > message.count) return;
      server.off('close', check);
      void send({ type: 'peers', peers: server.peers.size });
    };
    server.on('close', check);
    check();
  } else if (message.type === 'close') {
    void server.close({ timeoutMs: 1000 }).then(() => process.exit(0));
  }
});
// The parent going away takes the server with it.
process.on('disconnect', () => process.exit(0));

const port = Number(process.env.PROTO_CHILD_PORT ?? 0);
const address = await server.listen({ host: '127.0.0.1', port, retries: 50, retryDelayMs: 20 });
await cluster?.ready();
await send({ type: 'listening', port: address.port });
