/**
 * Soak test: an RpcServer and a set of reconnecting RpcClients in one process, behind a fault proxy,
 * driven for a fixed time with a mix of requests both ways: plain ones, slow ones with short
 * timeouts, cancellations (before and during the call), failing handlers, unknown methods, and
 * connections reset under load. Afterwards everything must be back where it started: heap (after a
 * full GC), active handles by type, listener counts, pending-request maps; and no
 * MaxListenersExceededWarning may have been emitted. Every request must have settled exactly once
 * with an outcome its kind allows.
 *
 *   pnpm soak                      # 2 minutes
 *   pnpm soak --minutes 10         # the RELIABILITY.md run (at most 10)
 *   options: --minutes N  --clients N (20)  --concurrency N per client (50)  --seed N (1)
 *
 * Prints a JSON summary; exits 1 if any check fails.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { RpcClient, RpcError, RpcServer } from '../packages/rpc/src/index.js';
import { FaultProxy } from '../testing/fault-proxy.js';
import { SeededRandom } from '../testing/random.js';

const { values } = parseArgs({
  // `npm run soak -- --minutes 5` passes the `--` along.
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    minutes: { type: 'string', default: '2' },
    clients: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
  },
});
const minutes = Math.min(10, Math.max(0.05, Number(values.minutes)));
const clientCount = Number(values.clients);
const concurrency = Number(values.concurrency);
const random = new SeededRandom(Number(values.seed));
const PASSWORD = 'soak-secret';
const durationMs = minutes * 60_000;
/** A million requests over the longest (10 minute) run, scaled down for shorter ones. */
const targetRequests = Math.round(1_000_000 * (minutes / 10));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const failures: string[] = [];
const fail = (message: string): void => {
  failures.push(message);
  console.error(`FAIL: ${message}`);
};

const warnings: Error[] = [];
process.on('warning', (warning) => {
  warnings.push(warning);
  if (warning.name === 'MaxListenersExceededWarning') fail(`MaxListenersExceededWarning: ${warning.message}`);
});

// ---- server ------------------------------------------------------------------------------------

const server = new RpcServer({ password: PASSWORD, keepAlive: { intervalMs: 2000, timeoutMs: 2000 } });
server.on('error', () => {});
server.handle('echo', (params) => params);
server.handle('slow', (params, ctx) => {
  const { delayMs } = params as { delayMs: number };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve(params);
    }, delayMs);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(ctx.signal.reason as Error);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
});
server.handle('fail', (params) => {
  if ((params as { typed: boolean }).typed) throw new RpcError('SOAK_FAIL', 'expected failure', { at: 'soak' });
  throw new Error('internal failure at /srv/app/secret.ts:42');
});
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
const proxy = await FaultProxy.start({ target: { port }, seed: Number(values.seed) });

// ---- clients -----------------------------------------------------------------------------------

const clients: RpcClient[] = [];
for (let i = 0; i < clientCount; i++) {
  const client = new RpcClient({
    host: '127.0.0.1',
    port: proxy.port,
    password: PASSWORD,
    keepAlive: { intervalMs: 2000, timeoutMs: 2000 },
    reconnect: { initialDelayMs: 20, maxDelayMs: 500 },
  });
  client.on('error', () => {});
  client.handle('client::echo', (params) => params);
  clients.push(client);
}
await Promise.all(clients.map((c) => c.connect()));

// ---- workload ----------------------------------------------------------------------------------

type Kind = 'echo' | 'slow-ok' | 'slow-timeout' | 'abort-before' | 'abort-during' | 'fail-typed' | 'fail-internal' | 'missing' | 'server-to-client';

/** Outcomes each kind of request may end in; ERR_CONNECTION_CLOSED / ERR_NOT_CONNECTED come from resets. */
const ALLOWED: Record<Kind, readonly string[]> = {
  echo: ['ok'],
  'slow-ok': ['ok'],
  'slow-timeout': ['ERR_REQUEST_TIMEOUT'],
  'abort-before': ['ERR_ABORTED'],
  'abort-during': ['ERR_ABORTED', 'ok'],
  'fail-typed': ['ERR_REMOTE:SOAK_FAIL'],
  'fail-internal': ['ERR_REMOTE:INTERNAL'],
  missing: ['ERR_METHOD_NOT_FOUND'],
  'server-to-client': ['ok'],
};
const DISCONNECTED = ['ERR_CONNECTION_CLOSED', 'ERR_NOT_CONNECTED'];

const counts = new Map<string, number>();
const count = (key: string): void => {
  counts.set(key, (counts.get(key) ?? 0) + 1);
};
let issued = 0;
let settled = 0;

function pickKind(): Kind {
  const r = random.next();
  if (r < 0.6) return 'echo';
  if (r < 0.67) return 'slow-ok';
  if (r < 0.72) return 'slow-timeout';
  if (r < 0.75) return 'abort-before';
  if (r < 0.82) return 'abort-during';
  if (r < 0.85) return 'fail-typed';
  if (r < 0.88) return 'fail-internal';
  if (r < 0.91) return 'missing';
  return 'server-to-client';
}

async function one(client: RpcClient, kind: Kind, seq: number): Promise<string> {
  const params = { seq, pad: 'p'.repeat(seq % 50) };
  switch (kind) {
    case 'echo': {
      const result = await client.request('echo', params);
      return JSON.stringify(result) === JSON.stringify(params) ? 'ok' : 'wrong-result';
    }
    case 'slow-ok':
      await client.request('slow', { delayMs: random.int(0, 20) }, { timeoutMs: 5000 });
      return 'ok';
    case 'slow-timeout':
      await client.request('slow', { delayMs: 10_000 }, { timeoutMs: random.int(1, 30) });
      return 'ok';
    case 'abort-before': {
      const controller = new AbortController();
      controller.abort();
      await client.request('echo', params, { signal: controller.signal });
      return 'ok';
    }
    case 'abort-during': {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), random.int(0, 20));
      try {
        await client.request('slow', { delayMs: random.int(0, 30) }, { signal: controller.signal });
      } finally {
        clearTimeout(timer);
      }
      return 'ok';
    }
    case 'fail-typed':
      await client.request('fail', { typed: true });
      return 'ok';
    case 'fail-internal':
      await client.request('fail', { typed: false });
      return 'ok';
    case 'missing':
      await client.request('no::such::method', params);
      return 'ok';
    case 'server-to-client': {
      const peers = [...server.peers.keys()];
      if (peers.length === 0) return 'ERR_NOT_CONNECTED';
      const result = await server.request(random.pick(peers), 'client::echo', params, { timeoutMs: 5000 });
      return JSON.stringify(result) === JSON.stringify(params) ? 'ok' : 'wrong-result';
    }
  }
}

function outcomeOf(error: unknown): string {
  const e = error as { code?: string; remoteCode?: string; message?: string };
  if (e.code === 'ERR_REMOTE') {
    // An internal failure must not leak its message, path or stack.
    if (e.remoteCode === 'INTERNAL' && (e.message?.includes('/srv/') || e.message?.includes('secret.ts'))) return 'leaked-internal-detail';
    return `ERR_REMOTE:${String(e.remoteCode)}`;
  }
  return String(e.code ?? e.message);
}

let stopping = false;

async function worker(client: RpcClient): Promise<void> {
  while (!stopping) {
    const kind = pickKind();
    const seq = issued++;
    let outcome: string;
    try {
      outcome = await one(client, kind, seq);
    } catch (error) {
      outcome = outcomeOf(error);
    }
    settled++;
    count(`${kind}:${outcome}`);
    if (!ALLOWED[kind].includes(outcome) && !DISCONNECTED.includes(outcome)) {
      fail(`request ${String(seq)} (${kind}) ended in ${outcome}`);
    }
    if (outcome === 'ERR_NOT_CONNECTED' && !client.connected && !stopping) await reconnected(client);
  }
}

const reconnecting = new Map<RpcClient, Promise<void>>();

/** One shared wait per client for its link to come back (not one listener per worker). */
function reconnected(client: RpcClient): Promise<void> {
  let waiting = reconnecting.get(client);
  if (waiting === undefined) {
    waiting = new Promise<void>((resolve) => {
      const done = (): void => {
        client.off('authenticated', done);
        client.off('close', done);
        reconnecting.delete(client);
        resolve();
      };
      client.on('authenticated', done);
      client.on('close', done);
    });
    reconnecting.set(client, waiting);
  }
  return waiting;
}

// ---- measurement helpers -----------------------------------------------------------------------

function resources(): Record<string, number> {
  const byType: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) byType[type] = (byType[type] ?? 0) + 1;
  return byType;
}

function listenerCensus(): Record<string, number> {
  const census: Record<string, number> = {};
  const add = (name: string, emitter: NodeJS.EventEmitter): void => {
    for (const event of emitter.eventNames()) census[`${name}:${String(event)}`] = (census[`${name}:${String(event)}`] ?? 0) + emitter.listenerCount(event);
  };
  add('server', server);
  clients.forEach((client) => add('client', client));
  add('process', process);
  return census;
}

function pendingMaps(): { clientInFlight: number; clientHandling: number; serverInFlight: number; serverHandling: number } {
  const sum = { clientInFlight: 0, clientHandling: 0, serverInFlight: 0, serverHandling: 0 };
  for (const client of clients) {
    const stats = client.peer?.stats;
    sum.clientInFlight += stats?.inFlight ?? 0;
    sum.clientHandling += stats?.handling ?? 0;
  }
  for (const peer of server.peers.values()) {
    sum.serverInFlight += peer.stats.inFlight;
    sum.serverHandling += peer.stats.handling;
  }
  return sum;
}

async function settle(): Promise<void> {
  // Wait until every client is connected again and nothing is in flight anywhere.
  for (let i = 0; i < 200; i++) {
    const maps = pendingMaps();
    if (clients.every((c) => c.connected) && server.peers.size === clientCount && Object.values(maps).every((n) => n === 0)) return;
    await sleep(50);
  }
  fail(`did not settle: ${JSON.stringify({ connected: clients.filter((c) => c.connected).length, peers: server.peers.size, ...pendingMaps() })}`);
}

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

// ---- run ---------------------------------------------------------------------------------------

const started = Date.now();
const warmupMs = Math.min(15_000, durationMs * 0.1);
console.log(`soak: ${String(minutes)} min, ${String(clientCount)} clients x ${String(concurrency)} concurrent requests, target ${String(targetRequests)} requests`);

const workers = clients.flatMap((client) => Array.from({ length: concurrency }, () => worker(client)));

// Connection resets under load, every 0.5-2 s: clients reconnect and re-authenticate.
let resets = 0;
const resetter = (async () => {
  while (!stopping) {
    await sleep(random.int(500, 2000));
    const links = [...proxy.links];
    if (stopping || links.length === 0) continue;
    random.pick(links).reset();
    resets++;
  }
})();

// Warm-up (JIT, caches), then the baseline with traffic paused.
await sleep(warmupMs);
stopping = true;
await Promise.all(workers);
await resetter;
await settle();
const baseline = { heap: heapAfterGc(), resources: resources(), listeners: listenerCensus() };
const baselineIssued = issued;
stopping = false;
const workers2 = clients.flatMap((client) => Array.from({ length: concurrency }, () => worker(client)));
const resetter2 = (async () => {
  while (!stopping) {
    await sleep(random.int(500, 2000));
    const links = [...proxy.links];
    if (stopping || links.length === 0) continue;
    random.pick(links).reset();
    resets++;
  }
})();

const progress = setInterval(() => {
  const elapsed = (Date.now() - started) / 1000;
  console.log(`  ${elapsed.toFixed(0)} s: ${String(settled)} requests settled, ${String(resets)} resets, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB`);
}, 15_000);
await sleep(Math.max(0, durationMs - (Date.now() - started)));
stopping = true;
clearInterval(progress);
await Promise.all(workers2);
await resetter2;
await settle();
const end = { heap: heapAfterGc(), resources: resources(), listeners: listenerCensus() };

// ---- checks ------------------------------------------------------------------------------------

if (settled !== issued) fail(`${String(issued)} requests issued but ${String(settled)} settled`);
const heapGrowth = end.heap - baseline.heap;
if (heapGrowth > Math.max(4 * 2 ** 20, baseline.heap * 0.1)) fail(`heap grew by ${(heapGrowth / 2 ** 20).toFixed(2)} MiB after GC`);
for (const type of new Set([...Object.keys(baseline.resources), ...Object.keys(end.resources)])) {
  if ((baseline.resources[type] ?? 0) !== (end.resources[type] ?? 0)) {
    fail(`active ${type}: ${String(baseline.resources[type] ?? 0)} at baseline, ${String(end.resources[type] ?? 0)} at the end`);
  }
}
for (const key of new Set([...Object.keys(baseline.listeners), ...Object.keys(end.listeners)])) {
  if ((baseline.listeners[key] ?? 0) !== (end.listeners[key] ?? 0)) {
    fail(`listeners ${key}: ${String(baseline.listeners[key] ?? 0)} at baseline, ${String(end.listeners[key] ?? 0)} at the end`);
  }
}
const measured = issued - baselineIssued;
const elapsedS = (Date.now() - started) / 1000;
const summary = {
  node: process.version,
  minutes,
  clients: clientCount,
  concurrency,
  seed: Number(values.seed),
  requests: issued,
  requestsAfterBaseline: measured,
  targetRequests,
  requestsPerSecond: Math.round(issued / elapsedS),
  resets,
  proxyResets: proxy.stats.resets,
  heapMiB: { baseline: +(baseline.heap / 2 ** 20).toFixed(2), end: +(end.heap / 2 ** 20).toFixed(2) },
  activeResources: { baseline: baseline.resources, end: end.resources },
  listeners: Object.values(end.listeners).reduce((a, b) => a + b, 0),
  warnings: warnings.map((w) => `${w.name}: ${w.message}`),
  outcomes: Object.fromEntries([...counts.entries()].sort()),
  failures,
};
if (issued < targetRequests) console.warn(`note: ${String(issued)} requests is below the ${String(targetRequests)} target for ${String(minutes)} min`);
console.log(JSON.stringify(summary, null, 2));

await Promise.all(clients.map((c) => c.close({ timeoutMs: 1000 })));
await server.close({ timeoutMs: 1000 });
await proxy.close();
console.log(failures.length === 0 ? 'soak: PASS' : `soak: FAIL (${String(failures.length)} problems)`);
process.exit(failures.length === 0 ? 0 : 1);
