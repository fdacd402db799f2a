import { once } from 'node:events';
import type { Server } from 'node:net';

/** Listen on 127.0.0.1, port 0; resolves the port. */
export async function listenLoopback(server: Pick<Server, 'listen' | 'address' | 'once'>): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server as Server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** A port free on 127.0.0.1 right now, for libraries that can't listen on port 0 (small race, loopback only). */
export async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const probe = createServer();
  const port = await listenLoopback(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
