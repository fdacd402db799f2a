// @proto/ns with `resume` on both ends: the one-way roles (as proto.ts, plus the option) and the
// reconnect-delay role (everything in one process: a server, a client, and a cuttable TCP proxy).
import * as net from 'node:net';
import { connect, createServer, type NsSocket } from '@proto/ns';
import type { Ipc } from '../lib/ipc.js';
import { type OneWayParams, ReceiveMeter, type SendResult, sendLoop } from '../lib/oneway.js';
import { now, quantileSorted } from '../lib/stats.js';
import { EVENT, TEXT } from './message.js';

let meter: ReceiveMeter;

function onMessage(): void {
  meter.add(1);
}

function onConnection(socket: NsSocket): void {
  socket.data(['bench', '*'], onMessage);
}

export async function nsResumeServer(params: OneWayParams, ipc: Ipc) {
  meter = new ReceiveMeter(ipc, params);
  const server = createServer({ resume: true }, onConnection);
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  ipc.post('ready', address.port);
  return meter.done;
}

export async function nsResumeClient(params: OneWayParams): Promise<SendResult> {
  const socket = await connect({ host: params.host, port: params.port, resume: true });
  return sendLoop(params, (i) => socket.send(EVENT, { i, s: TEXT }), () => socket.drained());
}

export interface ReconnectDelayParams {
  /** Cuts measured. */
  cuts: number;
  /** Messages sent into the window while the link is down, before it comes back. */
  backlog: number;
}

/** A TCP proxy whose connections can all be reset at once; `accepted` runs when a new one arrives. */
function cuttableProxy(target: number, accepted: () => void): Promise<{ port: number; cut: () => void; close: () => void }> {
  const open = new Set<net.Socket>();
  const server = net.createServer((down) => {
    accepted();
    const up = net.connect(target, '127.0.0.1');
    for (const [from, to] of [[down, up], [up, down]] as const) {
      open.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        open.delete(from);
        to.destroy();
      });
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        cut: () => {
          for (const socket of open) socket.resetAndDestroy();
        },
        close: () => server.close(),
      }),
    ),
  );
}

/**
 * Per cut: the link is reset while the client has `backlog` unsent messages in its window; measured
 * from the moment the client's new TCP connection reaches the proxy to the server receiving the
 * first resent message (the HELLOs, the session exchange and READY in between).
 */
export async function nsReconnectDelay(params: ReconnectDelayParams) {
  let firstAfterCut: (() => void) | undefined;
  const server = createServer({ resume: true }, (socket) => {
    socket.data(['bench', '*'], () => {
      const resolve = firstAfterCut;
      firstAfterCut = undefined;
      resolve?.();
    });
  });
  server.on('clientError', () => {});
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  let connectedAt = 0;
  const proxy = await cuttableProxy(port, () => (connectedAt = now()));
  const client = await connect({ host: '127.0.0.1', port: proxy.port, resume: true, reconnect: { initialDelayMs: 1, maxDelayMs: 1, jitter: 0 } });
  client.on('error', () => {});
  const samples = new Float64Array(params.cuts);
  for (let i = 0; i < params.cuts; i++) {
    const disconnected = new Promise<void>((resolve) => client.once('disconnect', () => resolve()));
    proxy.cut();
    await disconnected;
    const arrived = new Promise<void>((resolve) => (firstAfterCut = resolve));
    for (let m = 0; m < params.backlog; m++) client.send(EVENT, { i: m, s: TEXT });
    await arrived;
    samples[i] = now() - connectedAt;
  }
  await client.end();
  await server.close();
  proxy.close();
  samples.sort();
  return { p50Ms: quantileSorted(samples, 0.5), p99Ms: quantileSorted(samples, 0.99), count: params.cuts };
}
