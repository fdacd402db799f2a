import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, createServer, type NsConnectOptions, type NsServer, type NsServerOptions, type NsSocket } from '@proto/ns';

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Everything a test opened, closed in afterEach. */
export class Resources {
  readonly servers: NsServer[] = [];
  readonly sockets: NsSocket[] = [];
  readonly raw: net.Socket[] = [];
  readonly dirs: string[] = [];

  track<T extends NsSocket>(socket: T): T {
    this.sockets.push(socket);
    return socket;
  }

  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'proto-ns-'));
    this.dirs.push(dir);
    return dir;
  }

  async server(options: NsServerOptions = {}, onConnection?: (socket: NsSocket) => void): Promise<{ server: NsServer; port: number }> {
    const server = createServer(options, onConnection);
    this.servers.push(server);
    const address = await server.listen({ host: '127.0.0.1', port: 0 });
    return { server, port: address.port };
  }

  /** A server, a client connected to it, and the server side of that connection. */
  async pair(
    serverOptions: NsServerOptions = {},
    clientOptions: Partial<NsConnectOptions> = {},
  ): Promise<{ server: NsServer; port: number; client: NsSocket; peer: NsSocket }> {
    let accepted!: (socket: NsSocket) => void;
    const peer = new Promise<NsSocket>((resolve) => (accepted = resolve));
    const { server, port } = await this.server(serverOptions, (socket) => accepted(socket));
    const client = this.track(await connect({ host: '127.0.0.1', port, ...clientOptions } as NsConnectOptions));
    return { server, port, client, peer: await peer };
  }

  async closeAll(): Promise<void> {
    for (const socket of this.raw) socket.destroy();
    await Promise.all(this.sockets.map((socket) => socket.end()));
    await Promise.all(this.servers.map((server) => server.close({ timeoutMs: 1000 })));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    this.servers.length = 0;
    this.sockets.length = 0;
    this.raw.length = 0;
    this.dirs.length = 0;
  }
}

type Once = { once(event: string, listener: (...args: unknown[]) => void): unknown };

/** Resolves with the arguments of the next `event` of a socket or a server. */
export function next<T extends unknown[] = unknown[]>(emitter: NsSocket | NsServer, event: string): Promise<T> {
  return new Promise<T>((resolve) => {
    (emitter as unknown as Once).once(event, (...args) => resolve(args as T));
  });
}

/** A frame as ns puts it on the wire: uint32be length, then the payload. */
export function frame(...parts: (Buffer | number[] | string)[]): Buffer {
  const payload = Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

/** The ns hello of protocol version `version`. */
export const hello = (version = 1): Buffer => frame([0x01, 0x50, 0x4e, version, 0]);
/** The ns READY message. */
export const ready = (): Buffer => frame([0x04]);

/** A JSON event message `[0x02][nameLen][name][json]` as a frame. */
export function jsonEvent(name: string, json: string): Buffer {
  const nameBytes = Buffer.from(name);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(nameBytes.length);
  return frame([0x02], length, nameBytes, json);
}

/** Opens a raw TCP connection (for sending bytes by hand). */
export function rawConnect(resources: Resources, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
    resources.raw.push(socket);
  });
}

/** Resolves once the raw socket closes; collects what it received. */
export function rawClosed(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks))));
}

/**
 * The server's open socket, once it is open: a server's socket opens (joins `sockets`, fires
 * `connection`) at the client's hello, which may arrive after the client's `connect()` resolved.
 */
export async function openSocket(server: NsServer): Promise<NsSocket> {
  while (server.sockets.size === 0) await next(server, 'connection');
  return [...server.sockets][0]!;
}
