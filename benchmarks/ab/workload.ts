// One A/B workload in one process: a loopback server and client of the checkout this file is
// copied into (`ab.ts` copies it into each side's worktree, so `@proto/*` resolves to that side's
// sources). Uses only the API every compared commit shares: ns `createServer`/`connect`/`data`/
// `send`/`drained`, rpc `RpcServer`/`RpcClient`/`handle`/`request`.
//
//   node --conditions=@proto/source --import tsx workload.ts <ns-oneway|rpc-c1|rpc-c100> <count> [warm]
//
// Runs `warm` untimed units, then `count` timed ones, and prints one JSON line
// `{"workload","count","ms"}`. Under callgrind the whole process is counted; `ab.ts` takes the
// difference of two counts, so start-up and warm-up cancel out.
import { connect, createServer, type NsSocket } from '@proto/ns';
import { RpcClient, RpcServer } from '@proto/rpc';

const EVENT = ['bench', 'msg'] as const;
const TEXT = 'hello world';
const PASSWORD = 'ab-secret';

type Run = (count: number, warm: number) => Promise<number>;

async function nsOneWay(count: number, warm: number): Promise<number> {
  let received = 0;
  let target = 0;
  let started = 0;
  let onTarget: () => void = () => undefined;
  const reached = (n: number): Promise<void> =>
    new Promise<void>((resolve) => {
      target = n;
      onTarget = resolve;
      if (received >= target) resolve();
    });
  const server = createServer((socket: NsSocket) => {
    socket.data(['bench', '*'], () => {
      if (++received === target) onTarget();
    });
  });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const socket = await connect({ host: '127.0.0.1', port });
  const sendMany = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) {
      if (!socket.send(EVENT, { i, s: TEXT })) await socket.drained();
    }
  };
  const warmed = reached(warm);
  await sendMany(0, warm);
  await warmed;
  started = performance.now();
  const done = reached(warm + count);
  await sendMany(warm, warm + count);
  await done;
  return performance.now() - started;
}

function add(params: unknown): number {
  const { a, b } = params as { a: number; b: number };
  return a + b;
}

async function requests(concurrency: number, count: number, warm: number): Promise<number> {
  const server = new RpcServer({ password: PASSWORD });
  server.handle('math::add', add);
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const client = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD });
  await client.connect();
  const phase = async (total: number): Promise<void> => {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < total) {
        const a = next++;
        const sum = (await client.request('math::add', { a, b: 1 })) as number;
        if (sum !== a + 1) throw new Error(`math::add(${a}, 1) answered ${sum}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  };
  await phase(warm);
  const started = performance.now();
  await phase(count);
  return performance.now() - started;
}

const WORKLOADS: Record<string, Run> = {
  'ns-oneway': nsOneWay,
  'rpc-c1': (count, warm) => requests(1, count, warm),
  'rpc-c100': (count, warm) => requests(100, count, warm),
};

const [workload = '', countText = '', warmText = '2000'] = process.argv.slice(2);
const run = WORKLOADS[workload];
const count = Number(countText);
const warm = Number(warmText);
if (run === undefined || !Number.isSafeInteger(count) || count < 0 || !Number.isSafeInteger(warm) || warm < 0) {
  console.error(`usage: workload.ts <${Object.keys(WORKLOADS).join('|')}> <count> [warm]`);
  process.exit(2);
}
const ms = await run(count, warm);
process.stdout.write(`${JSON.stringify({ workload, count, ms })}\n`);
process.exit(0);
