// A client with `resume` that sent SESSION_OPEN to a server that never answers it (SESSION_ACCEPT
// never comes): the attempt fails after connectTimeoutMs with ERR_CONNECT_TIMEOUT, and a
// reconnecting client tries again. Nothing hangs, no timer is left behind.
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type NsReconnectingInfo, NsSocket } from '@proto/ns';
import { frame32, parseFrames32 } from '../../../testing/raw-socket.js';

/** A server HELLO with the resume flag and a nonce (PROTOCOL.md, "Opening a link with resume on"). */
const RESUME_HELLO = frame32([0x01, 0x50, 0x4e, 1, 0x01], Buffer.alloc(16, 7));
const SESSION_OPEN = 0x05;

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const clients: NsSocket[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const client of clients.splice(0)) client.destroy();
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** Timers and Date only: never nextTick or queueMicrotask, which real sockets need. */
const useFakeTimers = (): void => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
};

/** A server that says a resume HELLO and then nothing; each SESSION_OPEN it receives resolves a waiter. */
async function silentResumeServer(): Promise<{ port: number; opens: () => Promise<void>; count: () => number }> {
  let opened = 0;
  let waiter: (() => void) | undefined;
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.write(RESUME_HELLO);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { frames, rest } = parseFrames32(Buffer.concat([pending, chunk]));
      pending = Buffer.from(rest);
      for (const frame of frames) {
        if (frame[0] !== SESSION_OPEN) continue;
        opened++;
        const resolve = waiter;
        waiter = undefined;
        resolve?.();
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    opens: () => new Promise<void>((resolve) => (waiter = resolve)),
    count: () => opened,
  };
}

describe('resume: the server never answers SESSION_OPEN', () => {
  it('connect() rejects with ERR_CONNECT_TIMEOUT after connectTimeoutMs, saying what it waited for; no timer left', async () => {
    useFakeTimers();
    const server = await silentResumeServer();
    const client = new NsSocket({ host: '127.0.0.1', port: server.port, resume: true, connectTimeoutMs: 5_000 });
    clients.push(client);
    client.on('error', () => {});
    const opened = server.opens();
    const settled = client.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    await opened;
    await vi.advanceTimersByTimeAsync(4_900);
    expect(client.state).toBe('opening');
    await vi.advanceTimersByTimeAsync(200);
    const error = await settled;
    expect(error).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
    expect((error as Error).message).toMatch(/SESSION_OPEN/);
    expect(client.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a reconnecting client fails the attempt and dials again (another SESSION_OPEN), never stuck in opening', async () => {
    useFakeTimers();
    const server = await silentResumeServer();
    const client = new NsSocket({
      host: '127.0.0.1',
      port: server.port,
      resume: true,
      connectTimeoutMs: 5_000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 100, jitter: false },
    });
    clients.push(client);
    client.on('error', () => {});
    const attempts: NsReconnectingInfo[] = [];
    client.on('reconnecting', (info) => attempts.push(info));
    let opened = server.opens();
    void client.connect().catch(() => {});
    await opened;
    opened = server.opens();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.error).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(100);
    await opened;
    expect(server.count()).toBe(2);
    expect(client.state).not.toBe('open');
  });
});
