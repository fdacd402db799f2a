// @grpc/grpc-js unary calls, service loaded from add.proto with @grpc/proto-loader.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { serveUntilStopped, served } from '../lib/cpu.js';
import type { Ipc } from '../lib/ipc.js';
import { measureRequests, type RequestParams } from '../lib/requests.js';

interface AddRequest {
  a: number;
  b: number;
}
interface AddReply {
  sum: number;
}
type CalcClient = grpc.Client & {
  Add(request: AddRequest, callback: (error: grpc.ServiceError | null, reply?: AddReply) => void): void;
};

function loadCalc() {
  const definition = protoLoader.loadSync(fileURLToPath(new URL('./add.proto', import.meta.url)), { keepCase: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    bench: { Calc: grpc.ServiceClientConstructor };
  };
  return pkg.bench.Calc;
}

function add(call: grpc.ServerUnaryCall<AddRequest, AddReply>, callback: grpc.sendUnaryData<AddReply>): void {
  served.count++;
  callback(null, { sum: call.request.a + call.request.b });
}

export async function grpcServer(_params: RequestParams, ipc: Ipc) {
  const Calc = loadCalc();
  const server = new grpc.Server();
  server.addService(Calc.service, { Add: add });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  ipc.post('ready', port);
  return serveUntilStopped(ipc);
}

export async function grpcClient(params: RequestParams) {
  const Calc = loadCalc();
  const client = new Calc(`${params.host}:${params.port}`, grpc.credentials.createInsecure()) as unknown as CalcClient;
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())));
  return measureRequests(params, (a, b) =>
    new Promise<number>((resolve, reject) => {
      client.Add({ a, b }, (error, reply) => (error ? reject(error) : resolve(reply?.sum ?? Number.NaN)));
    }),
  );
}
