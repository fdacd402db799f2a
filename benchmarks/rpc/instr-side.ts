// One side of an rpc instruction count (rpc/instructions.ts): `server <contender>` prints its port
// and exits when its client leaves; `client <contender> <requests> <concurrency> <port> <warm>`
// sends `warm` math::add requests in a closed loop, prints `warm`, waits for a line on stdin, then
// sends `requests` more and exits. Contenders: proto, raw.
import { createInterface } from 'node:readline';
import net from 'node:net';
import { RpcClient, RpcServer } from '@proto/rpc';
import { CoalescingWriter } from '../lib/coalescing-writer.js';
import { MinimalDecoder } from '../lib/minimal-decoder.js';

const PASSWORD = 'bench-secret';
const [role, contender, ...rest] = process.argv.slice(2);

type Call = (a: number, b: number) => Promise<number>;

async function closedLoop(call: Call, requests: number, concurrency: number): Promise<void> {
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < requests) {
      const a = sent++;
      if ((await call(a, 1)) !== a + 1) throw new Error('wrong sum');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

async function protoServer(): Promise<void> {
  const server = new RpcServer({ password: PASSWORD });
  server.handle('math::add', (p: unknown) => {
    const { a, b } = p as { a: number; b: number };
    return a + b;
  });
  server.on('close', () => void server.close().then(() => process.exit(0)));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  console.log(`port ${port}`);
}

/** The warm-up, then the go from the orchestrator (once it zeroed the measured side's counters), then the run. */
async function warmThenRun(call: Call, requests: number, concurrency: number, warm: number): Promise<void> {
  await closedLoop(call, warm, concurrency);
  const lines = createInterface({ input: process.stdin });
  const go = new Promise((resolve) => lines.once('line', resolve));
  console.log('warm');
  await go;
  lines.close();
  await closedLoop(call, requests, concurrency);
}

async function protoClient(requests: number, concurrency: number, port: number, warm: number): Promise<void> {
  const client = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, reconnect: false });
  await client.connect();
  await warmThenRun((a, b) => client.request('math::add', { a, b }) as Promise<number>, requests, concurrency, warm);
  await client.close();
}

let current: net.Socket & { writer: CoalescingWriter };
function onRequestFrame(frame: Buffer): void {
  const request = JSON.parse(frame.toString('utf8')) as { id: number; method: string; params: { a: number; b: number } };
  if (request.method !== 'add') throw new Error('unknown method');
  current.writer.writeString(JSON.stringify({ id: request.id, result: request.params.a + request.params.b }));
}

async function rawServer(): Promise<void> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const conn = Object.assign(socket, { writer: new CoalescingWriter(socket) });
    const decoder = new MinimalDecoder();
    socket.on('data', (chunk: Buffer) => {
      current = conn;
      decoder.push(chunk, onRequestFrame);
    });
    socket.on('close', () => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => console.log(`port ${(server.address() as net.AddressInfo).port}`));
}

async function rawClient(requests: number, concurrency: number, port: number, warm: number): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  const pending = new Map<number, (result: number) => void>();
  const decoder = new MinimalDecoder();
  socket.on('data', (chunk: Buffer) =>
    decoder.push(chunk, (frame) => {
      const response = JSON.parse(frame.toString('utf8')) as { id: number; result: number };
      const resolve = pending.get(response.id)!;
      pending.delete(response.id);
      resolve(response.result);
    }),
  );
  const writer = new CoalescingWriter(socket);
  let nextId = 0;
  await warmThenRun(
    (a, b) => {
      const id = nextId++;
      writer.writeString(JSON.stringify({ id, method: 'add', params: { a, b } }));
      return new Promise<number>((resolve) => pending.set(id, resolve));
    },
    requests,
    concurrency,
    warm,
  );
  socket.end();
}

if (role === 'server') await (contender === 'raw' ? rawServer() : protoServer());
else {
  const [requests, concurrency, port, warm] = rest.map(Number) as [number, number, number, number];
  await (contender === 'raw' ? rawClient(requests, concurrency, port, warm) : protoClient(requests, concurrency, port, warm));
  process.exit(0);
}
