// @grpc/grpc-js server streaming with its defaults: the server writes while write() returns true and
// waits for 'drain' otherwise (as a careful user does); the client counts 'data' events.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { served, serveUntilStopped } from '../lib/cpu.js';
import type { Ipc } from '../lib/ipc.js';
import { TEXT } from '../ns/message.js';
import { ConsumeMeter, type ConsumeResult, type StreamParams } from './meter.js';

type ItemsClient = grpc.Client & {
  Small(request: { bytes: number }): grpc.ClientReadableStream<{ i: number; s: string }>;
  Large(request: { bytes: number }): grpc.ClientReadableStream<{ data: Buffer }>;
};

function loadItems(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(fileURLToPath(new URL('./items.proto', import.meta.url)), { keepCase: true });
  return (grpc.loadPackageDefinition(definition) as unknown as { bench: { Items: grpc.ServiceClientConstructor } }).bench.Items;
}

function pump(call: grpc.ServerWritableStream<unknown, unknown>, next: () => unknown): void {
  let cancelled = false;
  call.on('cancelled', () => (cancelled = true));
  call.on('error', () => (cancelled = true));
  const write = (): void => {
    while (!cancelled) {
      served.count++;
      if (!call.write(next())) {
        call.once('drain', write);
        return;
      }
    }
  };
  write();
}

export async function grpcStreamServer(_params: StreamParams, ipc: Ipc) {
  const Items = loadItems();
  const server = new grpc.Server();
  server.addService(Items.service, {
    Small: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      let i = 0;
      pump(call, () => ({ i: i++, s: TEXT }));
    },
    Large: (call: grpc.ServerWritableStream<{ bytes: number }, unknown>) => {
      const data = Buffer.alloc(call.request.bytes, 0x5a);
      pump(call, () => ({ data }));
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  ipc.post('ready', port);
  const samples = await serveUntilStopped(ipc);
  server.forceShutdown();
  return samples;
}

export async function grpcStreamClient(params: StreamParams): Promise<ConsumeResult> {
  const Items = loadItems();
  const client = new Items(`${params.host}:${params.port}`, grpc.credentials.createInsecure()) as unknown as ItemsClient;
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())));
  const meter = new ConsumeMeter(params);
  const large = params.itemBytes > 0;
  const call = large ? client.Large({ bytes: params.itemBytes }) : client.Small({ bytes: 0 });
  await new Promise<void>((resolve, reject) => {
    let expected = 0;
    call.on('data', (item: { i?: number; data?: Buffer }) => {
      if (large ? item.data?.length !== params.itemBytes : item.i !== expected++) {
        reject(new Error('wrong item'));
        return;
      }
      if (meter.add()) {
        call.cancel();
        resolve();
      }
    });
    call.on('error', (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED) reject(error);
    });
  });
  client.close();
  return meter.result;
}
