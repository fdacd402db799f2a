import { once } from 'node:events';
import { createServer, type NsServer, type NsSocket } from '@proto/ns';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../../../testing/cleanup.js';
import { proto, runInProcess, startProto, startServer, withPassword } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function rpcServer(): Promise<Awaited<ReturnType<typeof startServer>>> {
  const started = await startServer();
  cleanup.defer(() => started.server.close());
  return started;
}

async function nsServer(onSocket: (socket: NsSocket) => void = () => {}): Promise<{ server: NsServer; address: string }> {
  const server = createServer(onSocket);
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  cleanup.defer(() => server.close());
  return { server, address: `127.0.0.1:${port}` };
}

const subscribed = (line: string): boolean => line.includes('subscribed to');

describe('proto sub', () => {
  it('prints matching events of an rpc server as {"event","data"} lines and exits 0 after --count', async () => {
    const { server, address } = await rpcServer();
    const sub = startProto(['sub', address, 'chat::*', 'news::**', '--count', '3'], { env: withPassword() });
    await sub.line(subscribed, 'stderr');
    server.broadcast('chat::message', { text: 'hi' });
    server.broadcast('other::thing', 1); // matches no pattern
    server.broadcast('news::a::b', [1]);
    server.broadcast(['chat', 'bytes'], Buffer.from([1, 2, 3]));
    const result = await sub.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      ['{"event":["chat","message"],"data":{"text":"hi"}}', '{"event":["news","a","b"],"data":[1]}', '{"event":["chat","bytes"],"data":{"$base64":"AQID"}}', ''].join('\n'),
    );
  });

  it('subscribes to a plain ns server with --ns (no password)', async () => {
    const { server, address } = await nsServer();
    const sub = startProto(['sub', address, '**', '--ns', '--count', '1']);
    await sub.line(subscribed, 'stderr');
    server.broadcast(['jobs', 'done'], { id: 7 });
    const result = await sub.done;
    expect(result).toMatchObject({ code: 0, stdout: '{"event":["jobs","done"],"data":{"id":7}}\n' });
  });

  it('prints an event matching several patterns once, and exactly --count events when more arrive together', async () => {
    const { server, address } = await nsServer();
    const sub = startProto(['sub', address, 'news::*', '**', '--ns', '--count', '3']);
    await sub.line(subscribed, 'stderr');
    // Four events in one tick (one chunk): the fourth is not printed.
    for (let i = 1; i <= 4; i++) server.broadcast(['news', 'flash'], i);
    const result = await sub.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(['{"event":["news","flash"],"data":1}', '{"event":["news","flash"],"data":2}', '{"event":["news","flash"],"data":3}', ''].join('\n'));
  });

  it('exits 4 on --timeout, 3 when the server goes away, 0 on Ctrl+C', async () => {
    const { address } = await rpcServer();
    const timedOut = await runInProcess(['sub', address, 'x::*', '--count', '2', '--timeout', '200'], { env: withPassword() });
    expect(timedOut.code).toBe(4);
    expect(timedOut.stderr).toMatch(/ERR_TIMEOUT: --timeout 200 ms passed after 0 of 2 events\n$/);

    const { server: ns, address: nsAddress } = await nsServer();
    // The sub may print "subscribed" (its link is open once the server's hello is in) before this
    // process has read the sub's hello: wait for the server's side of the link too, or there is
    // no socket to destroy yet and the sub waits for ever.
    const accepted = once(ns, 'connection') as Promise<[NsSocket]>;
    const lost = startProto(['sub', nsAddress, '**', '--ns']);
    await lost.line(subscribed, 'stderr');
    const [socket] = await accepted;
    socket.destroy();
    const lostResult = await lost.done;
    expect(lostResult.code).toBe(3);
    expect(lostResult.stderr.trim().split('\n').at(-1)).toMatch(/^ERR_CONNECTION_CLOSED: /);

    const interrupted = startProto(['sub', address, '**'], { env: withPassword() });
    await interrupted.line(subscribed, 'stderr');
    interrupted.child.kill('SIGINT');
    expect(await interrupted.done).toMatchObject({ code: 0, stdout: '' });
  });

  it('exits quietly (0) when the reader of its output goes away, as in | head -1', async () => {
    const { server, address } = await rpcServer();
    const sub = startProto(['sub', address, 'tick'], { env: withPassword() });
    await sub.line(subscribed, 'stderr');
    server.broadcast('tick', 1);
    await sub.line((line) => line.includes('"tick"'));
    sub.child.stdout!.destroy();
    // Each broadcast is a write into the closed pipe; the first one fails with EPIPE.
    const ticking = setInterval(() => server.broadcast('tick', 2), 20);
    const result = await sub.done.finally(() => clearInterval(ticking));
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/Error|EPIPE/);
  });
});

describe('proto pub', () => {
  it('sends an event --count times to an rpc server, which receives every one before pub exits', async () => {
    const { server, address } = await rpcServer();
    const received: unknown[] = [];
    server.data('chat::*', (data, segments) => received.push([segments, data]));
    const result = await proto(['pub', address, 'chat::message', '{"text":"hello"}', '--count', '3'], { env: withPassword() });
    expect(result).toMatchObject({ code: 0, stdout: 'sent 3 × chat::message\n', stderr: '' });
    expect(received).toEqual(Array.from({ length: 3 }, () => [['chat', 'message'], { text: 'hello' }]));
  });

  it('sends to a plain ns server with --ns, --json summary', async () => {
    const received: unknown[] = [];
    let bothArrived!: () => void;
    const both = new Promise<void>((resolve) => (bothArrived = resolve));
    const { address } = await nsServer((socket) =>
      socket.data('**', (data) => {
        if (received.push(data) === 2) bothArrived();
      }),
    );
    const result = await runInProcess(['pub', address, 'jobs::tick', '{"n":1}', '--ns', '--count', '2', '--json']);
    expect(result).toEqual({ code: 0, stdout: '{"event":["jobs","tick"],"sent":2}\n', stderr: '' });
    await both;
    expect(received).toEqual([{ n: 1 }, { n: 1 }]);
  });

  it('refuses a wildcard event name (exit 2)', async () => {
    const { address } = await rpcServer();
    const result = await runInProcess(['pub', address, 'chat::*', '1'], { env: withPassword() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ERR_INVALID_ARG: /);
  });
});
