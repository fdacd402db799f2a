import { createServer, type NsServer } from '@proto/ns';
import type { ChatEvents } from './protocol.js';

/**
 * Starts a chat server: every message is broadcast to everyone (one encoding, same bytes to all).
 * The server listens with wildcards: `['chat', '*']` catches every chat event in one listener.
 */
export async function startChatServer(port: number, log: (line: string) => void): Promise<NsServer<ChatEvents>> {
  const names = new WeakMap<object, string>();
  const server = createServer<ChatEvents>((socket) => {
    socket.data(['chat', '*'], (data, [, kind]) => {
      if (kind === 'hello') {
        names.set(socket, data.name);
        log(`${data.name} joined`);
        server.broadcast(['room', 'joined'], { name: data.name });
      } else if (kind === 'say' && 'text' in data) {
        log(`${data.name}: ${data.text}`);
        server.broadcast(['room', 'message'], { from: data.name, text: data.text });
      }
    });
    socket.data(['file', 'chunk'], (bytes) => {
      const from = names.get(socket) ?? 'anonymous';
      log(`${from} sent ${bytes.length} raw bytes`);
      server.broadcast(['room', 'file'], { from, bytes: bytes.length });
    });
    socket.on('close', () => {
      const name = names.get(socket);
      if (name === undefined || !server.listening) return;
      log(`${name} left`);
      try {
        server.broadcast(['room', 'left'], { name });
      } catch (error) {
        // Workaround: broadcast() can throw ERR_NOT_CONNECTED while another client is itself
        // half-way through closing (reported to @proto/ns); a farewell is not worth a crash.
        if ((error as { code?: string }).code !== 'ERR_NOT_CONNECTED') throw error;
      }
    });
  });
  // A client sending garbage is closed and reported here; the server and everyone else go on.
  server.on('clientError', (error) => log(`dropped a client: ${error.message}`));
  // retries: a restarted server may find the port still held for a moment by the old process.
  await server.listen({ host: '127.0.0.1', port, retries: 10, retryDelayMs: 200 });
  return server;
}
