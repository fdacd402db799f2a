import { describe, expect, it } from 'vitest';
import { createServer, type NsServer, NsSocket, type NsServerOptions } from '@proto/ns';
import { Cleanup } from '../../../testing/cleanup.js';
import { FaultProxy } from '../../../testing/fault-proxy.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const cleanup = new Cleanup();
failOnUncaught(cleanup);

async function server(options: NsServerOptions, accepted: NsSocket[]): Promise<NsServer> {
  const ns = createServer(options, (socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
  });
  ns.on('clientError', () => {});
  cleanup.add(ns, (s) => s.close({ timeoutMs: 500 }));
  await ns.listen({ host: '127.0.0.1', port: 0 });
  return ns;
}

function next<T = void>(emitter: { once(event: string, fn: (value: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

describe('ending a resumable session', () => {
  it('destroy() with the link up tells the server: its socket closes without waiting for ttlMs', async () => {
    const accepted: NsSocket[] = [];
    const ns = await server({ resume: { ttlMs: 60_000 } }, accepted);
    const socket = new NsSocket({ host: '127.0.0.1', port: ns.address().port, resume: true });
    socket.on('error', () => {});
    await socket.connect();
    const closed = next(accepted[0]!, 'close');
    socket.destroy();
    await closed;
    expect(ns.sockets.size).toBe(0);
    expect(ns.sessions?.size).toBe(0);
  });

  it("after the server ends the session (its close), sends wait in the window and are the next session's first messages", async () => {
    const first: NsSocket[] = [];
    const second: NsSocket[] = [];
    const old = await server({ resume: true }, first);
    const fresh = await server({ resume: true }, second);
    const proxy = cleanup.add(await FaultProxy.start({ target: { port: old.address().port } }), (p) => p.close());
    const socket = new NsSocket({ host: '127.0.0.1', port: proxy.port, reconnect: { initialDelayMs: 1, maxDelayMs: 5 }, resume: true });
    socket.on('error', () => {});
    cleanup.add(socket, (s) => s.destroy());
    await socket.connect();
    // The next link reaches the other server (a restarted deployment).
    proxy.options = { ...proxy.options, target: { port: fresh.address().port } };
    const lost = next<{ reason: string; unsent: number }>(socket, 'sessionLost');
    const reconnected = next(socket, 'connect');
    await old.close();
    expect(await lost).toEqual({ reason: 'ended', unsent: 0 });
    // Before any new link: no ERR_NOT_CONNECTED, the message is kept.
    expect(() => socket.send('x', 'held')).not.toThrow();
    await reconnected;
    const got: unknown[] = [];
    const both = new Promise<void>((resolve) =>
      second[0]!.data('x', (data: unknown) => {
        got.push(data);
        if (got.length === 2) resolve();
      }),
    );
    socket.send('x', 'after');
    await both;
    expect(got).toEqual(['held', 'after']);
    expect(socket.inSession).toBe(true);
  });
});
