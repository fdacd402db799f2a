// The two sides of the 1 MiB transfer as plain functions with no time limits, for runs under
// valgrind (instructions.ts) where everything is ~50x slower. Same contenders as tcp/suite.ts, plus
// `ns`: the ns-binary suite's @proto/ns sender and receiver (one binary event per payload).
import { once } from 'node:events';
import net from 'node:net';
import { connect, createServer, type FramedSocket } from '@proto/framing';
import * as ns from '@proto/ns';
import { listenLoopback } from '../lib/listen.js';
import { MinimalDecoder } from '../lib/minimal-decoder.js';

export const CONTENDERS = ['framed', 'raw', 'concat', 'ns'] as const;
export type ContenderId = (typeof CONTENDERS)[number];

/** Listens on 127.0.0.1; `onPort` gets the port; resolves once `frames` payloads have arrived. */
export type Receiver = (frames: number, payloadBytes: number, onPort: (port: number) => void) => Promise<void>;
/** Sends `frames` payloads honouring backpressure, then ends and waits for the close. */
export type Sender = (port: number, frames: number, payloadBytes: number) => Promise<void>;

const framedRecv: Receiver = async (frames, _bytes, onPort) => {
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const server = createServer((socket: FramedSocket) => {
    socket.on('frame', () => {
      if (++received === frames) done();
    });
  });
  onPort((await server.listen({ host: '127.0.0.1', port: 0 })).port);
  await finished;
  await server.close({ timeoutMs: 1000 });
};

const framedSend: Sender = async (port, frames, bytes) => {
  const socket = await connect({ host: '127.0.0.1', port });
  const payload = Buffer.alloc(bytes, 0x5a);
  for (let i = 0; i < frames; i++) if (!socket.send(payload)) await socket.drained();
  await socket.end();
};

/** @proto/ns: one binary event per payload, counted with data() as the ns-binary suite does. */
const nsRecv: Receiver = async (frames, _bytes, onPort) => {
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const server = ns.createServer((socket) => {
    socket.data(['bench', '*'], () => {
      if (++received === frames) done();
    });
  });
  onPort((await server.listen({ host: '127.0.0.1', port: 0 })).port);
  await finished;
  await server.close({ timeoutMs: 1000 });
};

const nsSend: Sender = async (port, frames, bytes) => {
  const socket = await ns.connect({ host: '127.0.0.1', port });
  const payload = Buffer.alloc(bytes, 0x5a);
  for (let i = 0; i < frames; i++) if (!socket.send(['bench', 'bin'], payload)) await socket.drained();
  await socket.end();
};

function rawRecv(countBytes: boolean): Receiver {
  return async (frames, bytes, onPort) => {
    let received = 0;
    const target = countBytes ? frames * bytes : frames;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const decoder = new MinimalDecoder();
    const onFrame = (): void => {
      if (++received === target) done();
    };
    const server = net.createServer({ noDelay: true }, (socket) => {
      socket.on('data', (chunk: Buffer) => {
        if (!countBytes) decoder.push(chunk, onFrame);
        else if ((received += chunk.length) >= target) done();
      });
    });
    onPort(await listenLoopback(server));
    await finished;
    server.close();
    server.unref();
  };
}

function rawSend(withHeader: boolean): Sender {
  return async (port, frames, bytes) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    await once(socket, 'connect');
    const payload = Buffer.alloc(bytes, 0x5a);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(bytes);
    for (let i = 0; i < frames; i++) {
      const ok = socket.write(withHeader ? Buffer.concat([header, payload]) : payload);
      if (!ok) await once(socket, 'drain');
    }
    socket.end();
    await once(socket, 'close');
  };
}

export const RECEIVERS: Record<ContenderId, Receiver> = { framed: framedRecv, raw: rawRecv(true), concat: rawRecv(false), ns: nsRecv };
export const SENDERS: Record<ContenderId, Sender> = { framed: framedSend, raw: rawSend(false), concat: rawSend(true), ns: nsSend };
