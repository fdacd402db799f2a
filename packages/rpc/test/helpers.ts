import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { RpcClient, type RpcClientOptions, RpcServer, type RpcServerOptions } from '../src/index.js';
import type { ContractDefinition, UntypedMethods } from '../src/contract.js';

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export const PASSWORD = 'correct horse battery staple';

/** Resolves with the arguments of the next `event`. */
export function next<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise<T>((resolve) => {
    emitter.once(event, ((...args: T) => resolve(args)) as unknown as (...args: never[]) => void);
  });
}

/** Every item of `iterator`, once it ends. */
export async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterator) items.push(item);
  return items;
}

/** Whatever `iterator` rejects with, and the items before it (fails the test if it ends normally). */
export async function failure<T>(iterator: AsyncIterable<T>): Promise<{ items: T[]; error: Error & { code?: string; remoteCode?: string } }> {
  const items: T[] = [];
  try {
    for await (const item of iterator) items.push(item);
  } catch (error) {
    return { items, error: error as Error };
  }
  throw new Error(`the stream ended normally after ${items.length} items`);
}

/** A promise with its resolve function, for handlers that should wait on the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A frame as framing puts it on the wire: uint32be length, then the payload. */
export function frame(...parts: (Buffer | number[] | string)[]): Buffer {
  const payload = Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

/** The ns hello. */
export const nsHello = (): Buffer => frame([0x01, 0x50, 0x4e, 1, 0]);
/** The ns READY message. */
export const nsReady = (): Buffer => frame([0x04]);
/** A JSON user event. */
export function nsEvent(name: string, json: string): Buffer {
  const nameBytes = Buffer.from(name);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(nameBytes.length);
  return frame([0x02], length, nameBytes, json);
}

/** A TCP proxy that records every byte both ways and can stop forwarding (a frozen network). */
export class RecordingProxy {
  readonly recorded: Buffer[] = [];
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #frozen = false;
  port = 0;

  constructor(targetPort: number) {
    this.#server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      const forward = (from: net.Socket, to: net.Socket): void => {
        from.on('data', (chunk: Buffer) => {
          this.recorded.push(Buffer.from(chunk));
          if (!this.#frozen) to.write(chunk);
        });
        // A frozen network does not carry a close either: the other end must find out by itself
        // (keepalive), not race it through the proxy.
        const close = (): void => {
          if (!this.#frozen) to.destroy();
        };
        from.on('close', close);
        from.on('error', close);
      };
      forward(client, upstream);
      forward(upstream, client);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Stop forwarding (bytes and closes are swallowed); connections stay open. */
  freeze(): void {
    this.#frozen = true;
  }

  /** Forward again (for new data; what was swallowed is gone). */
  thaw(): void {
    this.#frozen = false;
  }

  /** Everything that went through, both ways. */
  bytes(): Buffer {
    return Buffer.concat(this.recorded);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Everything a test opened, closed in afterEach. */
export class Resources {
  readonly servers: RpcServer<ContractDefinition>[] = [];
  readonly clients: RpcClient<ContractDefinition>[] = [];
  readonly raw: net.Socket[] = [];
  readonly proxies: RecordingProxy[] = [];

  async server<D extends ContractDefinition = UntypedMethods, C extends ContractDefinition = UntypedMethods>(
    options: Partial<RpcServerOptions<D, C>> = {},
    port = 0,
  ): Promise<{ server: RpcServer<D, C>; port: number }> {
    const server = new RpcServer<D, C>({ password: PASSWORD, ...options } as RpcServerOptions<D, C>);
    this.servers.push(server as unknown as RpcServer<ContractDefinition>);
    const address = await server.listen({ host: '127.0.0.1', port });
    return { server, port: address.port };
  }

  client<D extends ContractDefinition = UntypedMethods, C extends ContractDefinition = UntypedMethods>(
    port: number,
    options: Partial<RpcClientOptions<D, C>> = {},
  ): RpcClient<D, C> {
    const client = new RpcClient<D, C>({ host: '127.0.0.1', port, password: PASSWORD, ...options } as RpcClientOptions<D, C>);
    this.clients.push(client as unknown as RpcClient<ContractDefinition>);
    return client;
  }

  /** A server and an authenticated client, plus the server's peer for that client. */
  async pair<D extends ContractDefinition = UntypedMethods, C extends ContractDefinition = UntypedMethods>(
    serverOptions: Partial<RpcServerOptions<D, C>> = {},
    clientOptions: Partial<RpcClientOptions<D, C>> = {},
  ) {
    const { server, port } = await this.server<D, C>(serverOptions);
    const authenticated = next<[import('../src/index.js').RpcPeer]>(server, 'authenticated');
    const client = this.client<D, C>(port, clientOptions);
    await client.connect();
    const [peer] = await authenticated;
    return { server, port, client, peer };
  }

  /** A raw TCP socket to `port`, destroyed after the test. */
  async rawSocket(port: number): Promise<net.Socket> {
    const socket = net.connect(port, '127.0.0.1');
    this.raw.push(socket);
    socket.on('error', () => {});
    // Flowing, so the peer's close is noticed even if the test never reads.
    socket.resume();
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return socket;
  }

  async proxy(targetPort: number): Promise<RecordingProxy> {
    const proxy = new RecordingProxy(targetPort);
    this.proxies.push(proxy);
    await proxy.listen();
    return proxy;
  }

  async closeAll(): Promise<void> {
    for (const socket of this.raw) socket.destroy();
    for (const client of this.clients) client.destroy();
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
    await Promise.all(this.servers.map((server) => server.close({ timeoutMs: 0 })));
    this.raw.length = 0;
    this.clients.length = 0;
    this.proxies.length = 0;
    this.servers.length = 0;
  }
}

/** Resolves when a raw socket has closed. */
export function closed(socket: net.Socket): Promise<void> {
  if (socket.destroyed && socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}
