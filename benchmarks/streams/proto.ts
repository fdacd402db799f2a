// @proto/rpc streams: the server's handler yields items, the client consumes them with for-await.
import { RpcClient, RpcServer } from '@proto/rpc';
import { served, serveUntilStopped } from '../lib/cpu.js';
import type { Ipc } from '../lib/ipc.js';
import { TEXT } from '../ns/message.js';
import { ConsumeMeter, type ConsumeResult, type StreamParams } from './meter.js';

const PASSWORD = 'bench-secret';

export async function streamServer(_params: StreamParams, ipc: Ipc) {
  const server = new RpcServer({ password: PASSWORD, keepAlive: false });
  server.handle('bench::ping', () => 0);
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
  const rttUs = await roundTripUs(client);
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
  return { ...meter.result, rttUs };
}

/**
 * Median request round trip between the two processes (after a warm-up), in µs: a stream with a
 * window of W items moves at most W items per round trip, whatever the CPU cost of an item.
 */
async function roundTripUs(client: RpcClient): Promise<number> {
  for (let i = 0; i < 500; i++) await client.request('bench::ping');
  const samples: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const start = performance.now();
    await client.request('bench::ping');
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]! * 1000;
}

/** Default options: highWaterMark 16. */
export function streamClient(params: StreamParams): Promise<ConsumeResult> {
  return consume(params, undefined);
}

/** 1 MiB items with a window deeper than the TCP pipe (256 items): the stream with the pipe full. */
export function streamClientWideLarge(params: StreamParams): Promise<ConsumeResult> {
  return consume(params, 256);
}

/** A window that covers the round trip (1024 items), for the cost of the credit itself. */
export function streamClientWide(params: StreamParams): Promise<ConsumeResult> {
  return consume(params, 1024);
}
