// The whole stack in one run: an authenticated RPC server and client (@proto/rpc, built on
// @proto/ns, built on @proto/framing), narrated step by step.
//
//   npx -y pnpm@10.34.9 demo          (or: npx tsx --conditions=@proto/source examples/demo.ts)
//
// Every step checks that things happened as narrated; the run exits 1 at the first surprise.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineContract, RpcClient, RpcServer } from '@proto/rpc';
import { z } from 'zod';

const PASSWORD = 'correct horse battery staple';
const started = performance.now();
let stepNo = 0;

const dim = process.stdout.isTTY ? (text: string) => `\x1b[2m${text}\x1b[0m` : (text: string) => text;

/** Prints a numbered step: what happened, then why (indented, dimmed on a terminal). */
function step(what: string, why?: string): void {
  const ms = `${String(Math.round(performance.now() - started)).padStart(5)} ms`;
  console.log(`${ms}  ${String(++stepNo).padStart(2)}. ${what}`);
  if (why !== undefined) console.log(`${' '.repeat(13)}${dim(why)}`);
}

/** Stops the run with a clear message when something did not go as narrated. */
function expect(condition: boolean, what: string): void {
  if (!condition) {
    console.error(`\n✗ step ${stepNo + 1}: expected ${what}`);
    process.exit(1);
  }
}

/** Awaits `promise`, failing the run if it does not settle within `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The rejection of `promise` (failing the run if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  expect(false, 'the request to fail');
  throw new Error('unreachable');
}

// Whatever happens, never hang: CI and newcomers both deserve an answer.
setTimeout(() => {
  console.error(`\n✗ the demo did not finish within 9 s (stuck after step ${stepNo})`);
  process.exit(1);
}, 9000).unref();

/** Handler calls the server saw cancelled, with the reason's code (so the demo can show it). */
const cancelledOnServer: string[] = [];

/** The methods, with zod schemas: typed handle()/request() on both sides, params checked at runtime. */
const api = defineContract({
  'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
  'jobs::slow': { params: z.object({ ms: z.number().int().min(0) }), result: z.string() },
  'server::info': { params: z.undefined(), result: z.object({ peer: z.string(), pid: z.number() }) },
});

/** Creates a server with the demo's methods and starts it on `port` (0: any free port). */
async function startServer(port: number): Promise<RpcServer<typeof api.methods>> {
  const server = new RpcServer({ password: PASSWORD, contract: api });
  server.handle('math::add', ({ a, b }) => a + b);
  // A slow job that honours cancellation: ctx.signal aborts when the caller times out or aborts.
  server.handle('jobs::slow', async ({ ms }, ctx) => {
    try {
      await sleep(ms, undefined, { signal: ctx.signal });
      return 'finished';
    } catch (error) {
      cancelledOnServer.push((ctx.signal.reason as { code?: string } | undefined)?.code ?? 'aborted');
      throw error;
    }
  });
  server.handle('server::info', (_params, ctx) => ({ peer: ctx.peer.id, pid: process.pid }));
  // retries: the port a previous server just released may still be in use for a moment.
  await server.listen({ host: '127.0.0.1', port, retries: 20, retryDelayMs: 50 });
  return server;
}

console.log('@proto demo: framing ← ns ← rpc, one process, real TCP on 127.0.0.1\n');

// ---- 1. server -------------------------------------------------------------------------------
let server = await startServer(0);
const port = server.address().port;
step(
  `RpcServer listening on 127.0.0.1:${port} with a password and three methods typed by a zod contract`,
  'math::add, jobs::slow (cancellable), server::info',
);

// ---- 2. authenticate -------------------------------------------------------------------------
const client = new RpcClient({
  host: '127.0.0.1',
  port,
  password: PASSWORD,
  contract: api,
  reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
});
const authenticatedOnServer = once(server, 'authenticated');
await within(3000, 'authentication', client.connect());
const [firstPeer] = await authenticatedOnServer;
step(
  `RpcClient connected and authenticated (the server calls it ${firstPeer.id})`,
  'challenge-response with fresh nonces: both sides proved they know the password; it never crossed the wire',
);

// ---- 3. a wrong password ---------------------------------------------------------------------
const intruder = new RpcClient({ host: '127.0.0.1', port, password: 'guess' });
const authFailed = once(server, 'authFailed');
const refused = await within(3000, 'the wrong password to be refused', rejection(intruder.connect()));
const [failure] = await authFailed;
expect(refused.code === 'ERR_AUTH_FAILED', `ERR_AUTH_FAILED, got ${refused.code}`);
step(
  `A client with the wrong password was refused: ${refused.code} (server: authFailed, ${failure.reason})`,
  'failed attempts are reported and slowed down; nothing but the handshake is processed before authentication',
);

// ---- 4. a request ----------------------------------------------------------------------------
let t0 = performance.now();
const sum = await client.request('math::add', { a: 2, b: 3 });
expect(sum === 5, `2 + 3 = 5, got ${JSON.stringify(sum)}`);
step(`request math::add {a: 2, b: 3} → ${JSON.stringify(sum)} in ${(performance.now() - t0).toFixed(1)} ms`);

// ---- 5. a timeout ----------------------------------------------------------------------------
t0 = performance.now();
const timedOut = await rejection(client.request('jobs::slow', { ms: 5000 }, { timeoutMs: 200 }));
expect(timedOut.code === 'ERR_REQUEST_TIMEOUT', `ERR_REQUEST_TIMEOUT, got ${timedOut.code}`);
await within(1000, 'the server to see the cancellation', waitFor(() => cancelledOnServer.length === 1));
step(
  `request jobs::slow {ms: 5000} with timeoutMs 200 → ${timedOut.code} after ${Math.round(performance.now() - t0)} ms`,
  `the client told the server, whose handler's ctx.signal aborted (${cancelledOnServer[0]}): no work is left running`,
);

// ---- 6. a cancellation -----------------------------------------------------------------------
t0 = performance.now();
const controller = new AbortController();
setTimeout(() => controller.abort(), 100);
const aborted = await rejection(client.request('jobs::slow', { ms: 5000 }, { signal: controller.signal }));
expect(aborted.code === 'ERR_ABORTED', `ERR_ABORTED, got ${aborted.code}`);
await within(1000, 'the server to see the cancellation', waitFor(() => cancelledOnServer.length === 2));
step(
  `request jobs::slow cancelled with an AbortController after 100 ms → ${aborted.code} after ${Math.round(performance.now() - t0)} ms`,
  `same path as a timeout: the server's handler was aborted too (${cancelledOnServer[1]})`,
);

// ---- 7. wildcard events ----------------------------------------------------------------------
const news: string[] = [];
client.data(['news', '*'], (data, event) => news.push(`${event.join('::')} ${JSON.stringify(data)}`));
const twoNews = waitFor(() => news.length === 2);
server.broadcast(['news', 'sports'], { headline: 'local team wins' });
server.send(firstPeer.id, ['news', 'tech'], { headline: 'new release' });
await within(1000, 'two news events', twoNews);
step(
  `client.data(['news', '*']) received ${news.length} events: ${news.join(', ')}`,
  'one listener for a whole namespace: server.broadcast() went to every client, server.send() to this one',
);

// ---- 8. the server goes away -----------------------------------------------------------------
const disconnected = once(client, 'disconnect');
const reconnecting = once(client, 'reconnecting');
await server.close();
await within(2000, 'the client to notice', disconnected);
const [{ attempt, delayMs }] = await within(2000, 'a reconnect to be scheduled', reconnecting);
const offline = await rejection(client.request('math::add', { a: 1, b: 1 }));
expect(offline.code === 'ERR_NOT_CONNECTED', `ERR_NOT_CONNECTED, got ${offline.code}`);
step(
  `Server stopped: the client saw 'disconnect' and scheduled reconnect attempt ${attempt} in ${delayMs} ms`,
  `meanwhile requests fail fast with ${offline.code} instead of hanging`,
);

// ---- 9. a new server on the same port --------------------------------------------------------
const reauthenticated = once(client, 'authenticated');
server = await startServer(port);
const reauthOnServer = once(server, 'authenticated');
await within(3000, 'the client to reconnect and re-authenticate', reauthenticated);
const [secondPeer] = await within(1000, 'the new server to see the client', reauthOnServer);
const info = await client.request('server::info');
const again = await client.request('math::add', { a: 20, b: 22 });
expect(again === 42 && info.peer === secondPeer.id, `a working link to the new server, got ${JSON.stringify({ again, info })}`);
step(
  `A new server on the same port ${port}: the client reconnected, re-authenticated (now ${secondPeer.id}), math::add {20, 22} → ${again}`,
  'backoff with jitter; authentication completes before anything else is sent on the new link',
);

// ---- 10. goodbye -----------------------------------------------------------------------------
const stats = client.peer?.stats;
await client.close();
await server.close();
step(
  `Closed the client and the server (last link: ${stats?.requestsOut} requests, ${stats?.bytesOut} bytes out, ${stats?.bytesIn} bytes in)`,
  'close() is graceful: requests in flight finish, buffered frames are flushed; nothing is left running',
);
console.log('\nAll steps behaved as narrated. Next: examples/README.md, or `npx -y pnpm@10.34.9 test`.');

/** Resolves once `condition()` holds, checking on every macrotask (cheap; the demo is short). */
function waitFor(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (condition()) resolve();
      else setImmediate(check);
    };
    check();
  });
}
