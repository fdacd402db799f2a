import { execSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcClient } from '@proto/rpc';
import { startChildServer } from '../../../testing/child-server.js';
import { Cleanup } from '../../../testing/cleanup.js';
import { LoadClient } from '../../../testing/rpc-load-client.js';

/**
 * Load: many authenticated clients on one RpcServer (in a child process, with its own file limit),
 * every request answered with its own result, and the server's memory per connection measured.
 *
 * Default (CI): 500 clients, 10 000 requests. `LOAD_FULL=1`: 5 000 clients, 100 000 requests.
 * Overrides: `LOAD_CLIENTS`, `LOAD_REQUESTS`. Every connection is a real RpcClient; with
 * `LOAD_LEAN_CLIENTS=1` all but 10 are lean wire-level clients instead (testing/rpc-load-client.ts),
 * which cost the test process less, so the server alone is measured.
 * `LOAD_REPORT=1` prints the measured figures.
 */
const FULL = process.env.LOAD_FULL === '1';
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? (FULL ? 5000 : 500));
const REQUESTS = Number(process.env.LOAD_REQUESTS ?? (FULL ? 100_000 : 10_000));
const LEAN = process.env.LOAD_LEAN_CLIENTS === '1';
const REAL_CLIENTS = LEAN ? Math.min(10, CLIENTS) : CLIENTS;
const CONNECT_CONCURRENCY = 128;
const PASSWORD = 'load-secret';

const cleanup = new Cleanup();

afterEach(async () => {
  await cleanup.run();
});

interface Requester {
  request(method: string, params: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** This process's own open-file limit (the clients' sockets count against it). */
function ownFileLimit(): number {
  try {
    return Number(execSync('ulimit -n', { shell: '/bin/sh', encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

/** Runs `task(i)` for i in [0, count) with at most `limit` at once; resolves with the results in order. */
async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

const MiB = 1024 * 1024;

describe(`load: ${String(CLIENTS)} concurrent authenticated rpc clients, ${String(REQUESTS)} requests`, () => {
  const timeout = FULL ? 900_000 : 60_000;
  it('every client authenticates, every request is answered with its own result, memory per connection is bounded', { timeout }, async () => {
    const limit = ownFileLimit();
    // The test process holds one socket per client (plus vitest's own); fail with a clear reason.
    expect(Number.isNaN(limit) || limit > CLIENTS + 256, `ulimit -n is ${String(limit)}: too low for ${String(CLIENTS)} clients`).toBe(true);

    const child = await startChildServer({
      password: PASSWORD,
      serverOptions: { maxPendingAuth: 256 },
      fileLimit: CLIENTS + 1024,
      nodeFlags: ['--expose-gc'],
    });
    cleanup.add(child, (c) => c.kill());
    const baseline = await child.gc();

    const clients: Requester[] = [];
    cleanup.defer(() => Promise.all(clients.map((c) => c.close().catch(() => {}))));
    let authRetries = 0;
    const connectStarted = performance.now();
    await pool(CLIENTS, CONNECT_CONCURRENCY, async (i) => {
      if (i < REAL_CLIENTS) {
        const client = new RpcClient({ host: '127.0.0.1', port: child.port, password: PASSWORD });
        client.on('error', () => {});
        await client.connect();
        clients.push({ request: (m, p) => client.request(m, p), close: () => client.close({ timeoutMs: 1000 }) });
        return;
      }
      for (;;) {
        try {
          const client = await LoadClient.connect(child.port, PASSWORD);
          clients.push({ request: (m, p) => client.request(m, p), close: () => client.end() });
          return;
        } catch (error) {
          // AUTH_FAIL 2: the server's maxPendingAuth said "later". Anything else is a failure.
          if ((error as Error).message !== 'AUTH_FAIL 2') throw error;
          authRetries++;
        }
      }
    });
    const connectMs = performance.now() - connectStarted;
    expect(clients).toHaveLength(CLIENTS);
    expect((await child.stats()).peers).toBe(CLIENTS);
    const loaded = await child.gc();

    // Every client sends its share one after another, all clients at once: CLIENTS requests in flight.
    const perClient = Math.ceil(REQUESTS / CLIENTS);
    let answered = 0;
    const requestStarted = performance.now();
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < perClient && c * perClient + i < REQUESTS; i++) {
          const params = { c, i, pad: 'x'.repeat((c + i) % 64) };
          expect(await client.request('echo', params)).toEqual(params);
          answered++;
        }
      }),
    );
    const requestMs = performance.now() - requestStarted;
    expect(answered).toBe(REQUESTS);
    const stats = await child.stats();
    expect(stats.handled).toBe(REQUESTS);
    const afterRequests = await child.gc();

    await Promise.all(clients.splice(0).map((c) => c.close()));
    await child.waitPeers(0);
    const closed = await child.gc();

    const perConnection = {
      heapBytes: (loaded.heapUsed - baseline.heapUsed) / CLIENTS,
      externalBytes: (loaded.external + loaded.arrayBuffers - baseline.external - baseline.arrayBuffers) / CLIENTS,
      rssBytes: (loaded.rss - baseline.rss) / CLIENTS,
    };
    const report = {
      clients: CLIENTS,
      realRpcClients: REAL_CLIENTS,
      requests: REQUESTS,
      connectSeconds: +(connectMs / 1000).toFixed(2),
      authRetries,
      requestSeconds: +(requestMs / 1000).toFixed(2),
      requestsPerSecond: Math.round(REQUESTS / (requestMs / 1000)),
      serverHeapPerConnectionKiB: +(perConnection.heapBytes / 1024).toFixed(2),
      serverExternalPerConnectionKiB: +(perConnection.externalBytes / 1024).toFixed(2),
      serverRssPerConnectionKiB: +(perConnection.rssBytes / 1024).toFixed(2),
      serverHeapMiB: { baseline: +(baseline.heapUsed / MiB).toFixed(1), connected: +(loaded.heapUsed / MiB).toFixed(1), afterRequests: +(afterRequests.heapUsed / MiB).toFixed(1), afterClose: +(closed.heapUsed / MiB).toFixed(1) },
      serverRssMiB: { baseline: +(baseline.rss / MiB).toFixed(1), connected: +(loaded.rss / MiB).toFixed(1), afterRequests: +(afterRequests.rss / MiB).toFixed(1) },
    };
    if (process.env.LOAD_REPORT === '1') console.log(`LOAD REPORT ${JSON.stringify(report)}`);

    // Bounds with headroom over what was measured (RELIABILITY.md): a leak or a per-connection
    // buffer would blow through them.
    expect(perConnection.heapBytes).toBeLessThan(32 * 1024);
    expect(perConnection.externalBytes).toBeLessThan(32 * 1024);
    // Once every client left, the server's heap is back near its baseline.
    expect(closed.heapUsed - baseline.heapUsed).toBeLessThan(Math.max(4 * MiB, 1024 * CLIENTS));
  });
});
