import { afterEach, describe, expect, it } from 'vitest';
import { RpcErrorCode, type RpcPeer } from '../src/index.js';
import { deferred, next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

const fast = { intervalMs: 100, timeoutMs: 100 };
/** Pings as often, but a loaded machine cannot make a healthy link miss a 5 s deadline. */
const healthy = { intervalMs: 100, timeoutMs: 5_000 };

describe('keepalive over a real link', () => {
  it('measures the RTT and keeps a healthy idle link open', async () => {
    const { server, client, peer } = await resources.pair({ keepAlive: healthy }, { keepAlive: healthy });
    const timeouts: unknown[] = [];
    server.on('timeout', (p) => timeouts.push(p));
    client.on('timeout', () => timeouts.push('client'));
    await waitFor(() => peer.stats.rttMs !== undefined && client.peer?.stats.rttMs !== undefined);
    // Pings keep flowing on the idle link (several intervals) and nothing times out.
    const bytesBefore = peer.stats.bytesIn;
    await waitFor(() => peer.stats.bytesIn > bytesBefore + 60);
    expect(timeouts).toEqual([]);
    expect(peer.connected).toBe(true);
    expect(client.connected).toBe(true);
    expect(peer.stats.rttMs).toBeGreaterThanOrEqual(0);
  });

  it('both sides detect a frozen network: timeout, then close', async () => {
    const { server, port } = await resources.server({ keepAlive: fast });
    const proxy = await resources.proxy(port);
    const authenticated = next<[RpcPeer]>(server, 'authenticated');
    const client = resources.client(proxy.port, { keepAlive: fast });
    await client.connect();
    const [peer] = await authenticated;
    server.handle('hang', () => new Promise(() => {}));
    const pending = client.request('hang', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    const serverTimeout = next<[RpcPeer]>(server, 'timeout');
    const serverClose = next<[RpcPeer]>(server, 'close');
    const clientTimeout = next(client, 'timeout');
    const clientClose = next<[Error | undefined]>(client, 'close');
    const frozenAt = performance.now();
    proxy.freeze();
    expect((await serverTimeout)[0]).toBe(peer);
    expect((await serverClose)[0]).toBe(peer);
    await clientTimeout;
    const [closeError] = await clientClose;
    expect(closeError).toMatchObject({ code: RpcErrorCode.KEEPALIVE_TIMEOUT });
    // within intervalMs + timeoutMs of the last byte (plus scheduling slack)
    expect(performance.now() - frozenAt).toBeLessThan(fast.intervalMs + fast.timeoutMs + 400);
    expect(await pending).toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
  });

  it('a reconnecting client reconnects and re-authenticates after a keepalive timeout', async () => {
    const { server, port } = await resources.server({ keepAlive: false });
    server.handle('ping', () => 'pong');
    const proxy = await resources.proxy(port);
    const client = resources.client(proxy.port, {
      keepAlive: fast,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    await client.connect();
    const firstPeer = client.peer;
    const timedOut = next(client, 'timeout');
    const disconnected = next<[Error | undefined]>(client, 'disconnect');
    const closedEvents: unknown[] = [];
    client.on('close', (error) => closedEvents.push(error));
    proxy.freeze();
    await timedOut;
    expect((await disconnected)[0]).toMatchObject({ code: RpcErrorCode.KEEPALIVE_TIMEOUT });
    expect(firstPeer?.connected).toBe(false);
    const reauthenticated = next<[RpcPeer]>(client, 'authenticated');
    proxy.thaw();
    const [secondPeer] = await reauthenticated;
    expect(secondPeer).not.toBe(firstPeer);
    expect(await client.request('ping')).toBe('pong');
    expect(closedEvents).toEqual([]);
  });

  it('a keepalive timeout drops only the link: backoff from attempt 1, sends in the gap queued and delivered after re-authentication', async () => {
    const { server, port } = await resources.server({ keepAlive: false });
    server.handle('hang', () => new Promise(() => {}));
    const proxy = await resources.proxy(port);
    const client = resources.client(proxy.port, {
      keepAlive: fast,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 },
      offlineQueue: true,
    });
    await client.connect();
    const pending = client.request('hang', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    const events: unknown[] = [];
    const sendErrors: unknown[] = [];
    const trySend = (n: number): void => {
      try {
        client.send('log::line', { n });
      } catch (error) {
        sendErrors.push(error);
      }
    };
    client.on('timeout', () => events.push('timeout'));
    client.on('disconnect', (error) => {
      events.push(['disconnect', (error as { code?: string } | undefined)?.code]);
      // Right inside the drop: the old workaround threw ERR_NOT_CONNECTED here.
      trySend(1);
    });
    client.on('close', (error) => events.push(['close', error]));
    const reconnecting = new Promise<void>((resolve) => {
      client.on('reconnecting', (info) => {
        events.push(['reconnecting', info.attempt, (info.error as { code?: string } | undefined)?.code]);
        resolve();
      });
    });
    const order: string[] = [];
    const lines: unknown[] = [];
    const delivered = deferred();
    server.on('authenticated', () => order.push('authenticated'));
    server.data('log::*', (data) => {
      order.push('data');
      lines.push(data);
      if (lines.length === 2) delivered.resolve();
    });
    proxy.freeze();
    await reconnecting;
    expect(events).toEqual([
      'timeout',
      ['disconnect', RpcErrorCode.KEEPALIVE_TIMEOUT],
      ['reconnecting', 1, RpcErrorCode.KEEPALIVE_TIMEOUT],
    ]);
    expect(await pending).toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
    expect(client.connected).toBe(false);
    trySend(2);
    expect(sendErrors).toEqual([]);
    const reauthenticated = next<[RpcPeer]>(client, 'authenticated');
    proxy.thaw();
    const [peer] = await reauthenticated;
    await delivered.promise;
    expect(order).toEqual(['authenticated', 'data', 'data']);
    expect(lines).toEqual([{ n: 1 }, { n: 2 }]);
    expect(peer.connected).toBe(true);
    // Exactly one reconnect was scheduled, and the socket was never closed.
    expect(events.filter((e) => Array.isArray(e) && e[0] === 'reconnecting')).toHaveLength(1);
    expect(events.filter((e) => Array.isArray(e) && e[0] === 'close')).toEqual([]);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const { vi } = await import('vitest');
  await vi.waitUntil(condition, { timeout: 5000, interval: 10 });
}
