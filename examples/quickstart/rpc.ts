import { defineContract, RpcClient, RpcServer } from '@proto/rpc';
import { z } from 'zod';

const api = defineContract({
  'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
});
const server = new RpcServer({ password: 'secret', contract: api });
server.handle('math::add', ({ a, b }) => a + b);   // params typed and validated from the contract
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });

const client = new RpcClient({ host: '127.0.0.1', port, password: 'secret', contract: api });
await client.connect();                            // resolves once both sides proved the password
console.log(await client.request('math::add', { a: 1, b: 2 }, { timeoutMs: 1000 })); // 3
await client.close();
await server.close();
