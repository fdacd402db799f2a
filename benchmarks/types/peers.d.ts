// Minimal typings for the untyped peer libraries, only what the benchmarks call.

declare module 'amp' {
  import type { Writable } from 'node:stream';
  class Parser extends Writable {
    constructor(options?: object);
    on(event: 'data', listener: (message: Buffer) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
  }
  const amp: {
    Stream: typeof Parser;
    encode(args: readonly Buffer[]): Buffer;
    decode(message: Buffer): Buffer[];
  };
  export default amp;
}

declare module 'length-prefixed-stream' {
  import type { Transform } from 'node:stream';
  const lps: {
    decode(options?: { limit?: number; allowEmpty?: boolean }): Transform;
    encode(): Transform;
  };
  export default lps;
}

declare module 'axon' {
  import type { EventEmitter } from 'node:events';
  import type { Socket as NetSocket } from 'node:net';
  interface AxonSocket extends EventEmitter {
    socks: NetSocket[];
    set(name: string, value: unknown): this;
    bind(port: number, host: string, callback?: () => void): this;
    connect(port: number, host: string, callback?: () => void): this;
    send(...args: unknown[]): void;
    close(callback?: () => void): void;
  }
  const axon: { socket(type: 'push' | 'pull' | 'req' | 'rep' | 'pub' | 'sub'): AxonSocket };
  export default axon;
}

declare module 'nssocket' {
  import type { Server, Socket } from 'node:net';
  import type { EventEmitter } from 'node:events';
  class NsSocket extends EventEmitter {
    constructor(options: { type?: 'tcp4' | 'tls'; reconnect?: boolean; delimiter?: string });
    constructor(socket: Socket, options?: object);
    socket: Socket;
    connected: boolean;
    connect(port: number, host: string, callback?: () => void): void;
    send(event: string | readonly string[], data?: unknown, callback?: () => void): void;
    data(event: string | readonly string[], listener: (data: any) => void): void;
    end(): void;
    destroy(): void;
  }
  const nssocket: {
    NsSocket: typeof NsSocket;
    createServer(listener: (socket: NsSocket) => void): Server;
    createServer(options: object, listener: (socket: NsSocket) => void): Server;
  };
  export default nssocket;
}

declare module 'nossock' {
  import type { Server, Socket } from 'node:net';
  import type { EventEmitter } from 'node:events';
  interface Nossock extends EventEmitter {
    socket: Socket;
    send(name: string, body: unknown): void;
    end(): void;
    destroy(): void;
  }
  const nossock: {
    createClient(type: 'tcp', options: { host: string; port: number }, onConnect: (socket: Nossock) => void): Nossock;
    createServer(type: 'tcp', options: object, onConnection: (socket: Nossock) => void): Server;
  };
  export default nossock;
}
