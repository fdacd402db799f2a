import { defineContract, RpcError, RpcServer } from '@proto/rpc';
import { z } from 'zod';

/** The demo contract: typed methods show their JSON Schema in `proto describe`. */
export const demoContract = defineContract({
  'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
  'count::up': {
    params: z.object({ n: z.number().int().min(0).max(1_000_000), intervalMs: z.number().int().min(0).max(10_000).optional() }),
    item: z.number().int(),
    stream: true,
  },
  'time::sleep': {
    params: z.object({ ms: z.number().int().min(0).max(60_000) }),
    result: z.object({ sleptMs: z.number() }),
  },
});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The server `proto serve` runs: `math::add`, `echo` (no contract: listed without a schema), the
 * stream `count::up` (`{ n, intervalMs? }` → 1..n, cancellable),
 * `time::sleep` (cancellable), `demo::teapot` (always fails with `E_TEAPOT`), and a chat: every
 * `chat::*` event a client sends is broadcast to all clients. `describe: true`.
 */
export function createDemoServer(password: string): RpcServer<typeof demoContract.methods> {
  const server = new RpcServer({ password, contract: demoContract, describe: true });
  server.handle('math::add', ({ a, b }) => a + b);
  server.handle('time::sleep', async ({ ms }, ctx) => {
    await sleep(ms, ctx.signal);
    return { sleptMs: ms };
  });
  server.handleStream('count::up', async function* ({ n, intervalMs }, ctx) {
    for (let i = 1; i <= n; i++) {
      if (intervalMs !== undefined && intervalMs > 0) await sleep(intervalMs, ctx.signal);
      yield i;
    }
  });
  server.handle(['echo'], (params: unknown) => params);
  server.handle(['demo', 'teapot'], () => {
    throw new RpcError('E_TEAPOT', "I'm a teapot", { brew: 'coffee' });
  });
  server.data('chat::*', (data, segments) => {
    server.broadcast(segments, data);
  });
  return server;
}
