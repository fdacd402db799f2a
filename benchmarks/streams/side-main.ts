// One side of a stream benchmark as its own process, for instruction counts (instructions.ts):
//   side-main.ts produce <hwm> <itemBytes>          prints `port <n>`, serves until the consumer leaves
//   side-main.ts consume <hwm> <itemBytes> <items> <port>   reads <items> items, then breaks and exits
// itemBytes 0: the small JSON items { i, s } of the suite; otherwise Buffers of that size.
import { RpcClient, RpcServer } from '@proto/rpc';
import { TEXT } from '../ns/message.js';

const PASSWORD = 'bench-secret';
const [role, hwmArg, bytesArg, itemsArg, portArg] = process.argv.slice(2);
const highWaterMark = Number(hwmArg);
const itemBytes = Number(bytesArg);

if (role === 'produce') {
  const server = new RpcServer({ password: PASSWORD, keepAlive: false });
  server.handleStream('bench::small', async function* () {
    for (let i = 0; ; i++) yield { i, s: TEXT };
  });
  server.handleStream('bench::large', async function* (bytes: number) {
    const payload = Buffer.alloc(bytes, 0x5a);
    for (;;) yield payload;
  });
  server.on('close', () => void server.close({ timeoutMs: 0 }).then(() => process.exit(0)));
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  console.log(`port ${String(address.port)}`);
} else if (role === 'consume') {
  const items = Number(itemsArg);
  const client = new RpcClient({ host: '127.0.0.1', port: Number(portArg), password: PASSWORD, keepAlive: false });
  await client.connect();
  const stream = itemBytes > 0 ? client.stream<Buffer>('bench::large', itemBytes, { highWaterMark }) : client.stream<{ i: number }>('bench::small', undefined, { highWaterMark });
  let seen = 0;
  for await (const item of stream) {
    if (itemBytes > 0 ? (item as Buffer).length !== itemBytes : (item as { i: number }).i !== seen) throw new Error('wrong item');
    if (++seen === items) break;
  }
  client.destroy();
  process.exit(0);
} else {
  console.error('usage: side-main.ts produce <hwm> <itemBytes> | consume <hwm> <itemBytes> <items> <port>');
  process.exit(2);
}
