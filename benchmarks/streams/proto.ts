// @proto/rpc streams: the server's handler yields items, the client consumes them with for-await.
import { RpcClient, RpcServer } from '@proto/rpc';
import { served, serveUntilStopped } from '../lib/cpu.js';
import type { Ipc } from '../lib/ipc.js';
import { TEXT } from '../ns/message.js';
import { ConsumeMeter, type ConsumeResult, type StreamParams } from './meter.js';

const PASSWORD = 'bench-secret';

export async function streamServer(_params: StreamParams, ipc: Ipc) {
  const server = new RpcServer({ password: PASSWORD, keepAlive: false });
  server.handleStream('bench::small', async function* () {
    for (let i = 0; ; i++) {
      served.count++;
      yield { i, s: TEXT };
    }
  });
  server.handleStream('bench::large', async function* (bytes: number) {
    const payload = Buffer.alloc(bytes, 0x5a);
    for (;;) {
      served.count++;
      yield payload;
    }
  });
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  ipc.post('ready', address.port);
  const samples = await serveUntilStopped(ipc);
  await server.close({ timeoutMs: 0 });
  return samples;
}

async function consume(params: StreamParams, highWaterMark: number | undefined): Promise<ConsumeResult> {
  const client = new RpcClient({ host: params.host, port: params.port, password: PASSWORD, keepAlive: false });
  await client.connect();
  const meter = new ConsumeMeter(params);
  const large = params.itemBytes > 0;
  const options = highWaterMark === undefined ? undefined : { highWaterMark };
  const stream = large ? client.stream<Buffer>('bench::large', params.itemBytes, options) : client.stream<{ i: number }>('bench::small', undefined, options);
  let expected = 0;
  for await (const item of stream) {
    if (large ? (item as Buffer).length !== params.itemBytes : (item as { i: number }).i !== expected++) throw new Error('wrong item');
    if (meter.add()) break;
  }
  client.destroy();
  return meter.result;
}

/** Default options: highWaterMark 16. */
export function streamClient(params: StreamParams): Promise<ConsumeResult> {
  return consume(params, undefined);
}

/** A larger window, for context. */
export function streamClientWide(params: StreamParams): Promise<ConsumeResult> {
  return consume(params, 256);
}
