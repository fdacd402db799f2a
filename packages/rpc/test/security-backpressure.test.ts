// Issue 10, item 5: a client that stops reading while thousands of requests for large results are
// in flight. Before the fix the server kept answering into its outbound buffer until
// maxBufferedBytes refused answers (logged ERR_BUFFER_OVERFLOW, sent INTERNAL or nothing) on a link
// that stayed up. Now it stops reading requests while the answers are past the high-water mark.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FaultProxy, type ProxyLink } from '../../../testing/fault-proxy.js';
import type { RpcPeer } from '../src/index.js';
import { deferred, next, Resources } from './helpers.js';

const resources = new Resources();
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await resources.closeAll();
  await proxy?.close();
  proxy = undefined;
});

const RESULT_BYTES = 60 * 1024;
const HIGH_WATER_MARK = 256 * 1024;
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

describe('security: a peer that stops reading its answers', () => {
  it('every request gets exactly one correct answer; the server stops reading instead of dropping', async () => {
    const total = 2000; // 2000 x 60 KB = 117 MiB of answers against an 8 MiB buffer
    let peer: RpcPeer | undefined;
    let handled = 0;
    let peakBuffered = 0;
    const { server, port } = await resources.server({
      highWaterMark: HIGH_WATER_MARK,
      maxBufferedBytes: MAX_BUFFERED_BYTES,
      maxConcurrentRequests: 4096,
      keepAlive: false,
    });
    const errors: Error[] = [];
    server.on('error', (error: Error) => errors.push(error));
    server.handle('big', (n: unknown) => {
      handled++;
      if (peer !== undefined) peakBuffered = Math.max(peakBuffered, peer.stats.bufferedBytes);
      const result = Buffer.alloc(RESULT_BYTES, 0x61);
      result.writeUInt32BE(n as number, 0);
      return result;
    });
    proxy = await FaultProxy.start({ target: { port } });
    const linked = proxy.nextLink();
    const authenticated = next<[RpcPeer]>(server, 'authenticated');
    const client = resources.client(proxy.port, { keepAlive: false, requestTimeoutMs: 600_000 });
    await client.connect();
    [peer] = await authenticated;
    const link: ProxyLink = await linked;

    link.stall('toClient'); // the client's socket reads nothing more: its loop is "busy"
    const answers = Array.from({ length: total }, (_, n) => client.request('big', n));
    const outcomes = answers.map((answer) => answer.then((value) => ({ value }), (error: Error & { code?: string }) => ({ error })));
    // The server is backpressured: reading stopped (fixed), or answers were refused (before the fix).
    await vi.waitFor(() => expect(peer!.stats.readingPaused || errors.length > 0).toBe(true), { timeout: 60_000, interval: 5 });
    const handledWhilePaused = handled;
    peakBuffered = Math.max(peakBuffered, peer.stats.bufferedBytes);
    link.resume('toClient');

    const settled = await Promise.all(outcomes);
    const failures = settled.filter((outcome) => 'error' in outcome);
    expect(failures.map((f) => ('error' in f ? `${(f.error as { code?: string }).code ?? ''} ${(f.error as { remoteCode?: string }).remoteCode ?? ''}` : '')).slice(0, 5)).toEqual([]);
    settled.forEach((outcome, n) => {
      const value = (outcome as { value: Buffer }).value;
      expect(value.length).toBe(RESULT_BYTES);
      expect(value.readUInt32BE(0)).toBe(n);
    });
    expect(errors).toEqual([]);
    expect(handled).toBe(total); // exactly once each
    expect(handledWhilePaused).toBeLessThan(total); // it stopped reading requests
    // Synchronous handlers: at most one answer past the high-water mark before reading pauses.
    expect(peakBuffered).toBeLessThanOrEqual(HIGH_WATER_MARK + 2 * RESULT_BYTES);
    expect(peer.stats.readingPaused).toBe(false);
    expect(client.peer?.stats.readingPaused).toBe(false);
  }, 120_000);

  it('an answer that cannot be buffered at all fails the link with ERR_BUFFER_OVERFLOW, never a fake INTERNAL', async () => {
    // Asynchronous handlers all admitted before any answer: their answers exceed maxBufferedBytes.
    const total = 400; // 400 x 60 KB = 23 MiB against 4 MiB
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const allStarted = deferred();
    const { server, port } = await resources.server({ highWaterMark: HIGH_WATER_MARK, maxBufferedBytes: 4 * 1024 * 1024, keepAlive: false });
    const errors: Error[] = [];
    server.on('error', (error: Error) => errors.push(error));
    server.handle('big', async () => {
      if (++started === total) allStarted.resolve();
      await gate;
      return Buffer.alloc(RESULT_BYTES);
    });
    proxy = await FaultProxy.start({ target: { port } });
    const linked = proxy.nextLink();
    const client = resources.client(proxy.port, { keepAlive: false, requestTimeoutMs: 600_000 });
    await client.connect();
    const link = await linked;
    const outcomes = Array.from({ length: total }, () => client.request('big').then(() => 'ok', (error: { code?: string; remoteCode?: string }) => `${error.code ?? ''}:${error.remoteCode ?? ''}`));
    await allStarted.promise;
    link.stall('toClient');
    const closed = next(server, 'close');
    release();
    await closed;
    link.resume('toClient');
    const results = await Promise.all(outcomes);
    expect(results.filter((r) => r.includes('INTERNAL'))).toEqual([]);
    expect(results.every((r) => r === 'ok' || r === 'ERR_CONNECTION_CLOSED:')).toBe(true);
    expect(results).toContain('ERR_CONNECTION_CLOSED:');
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_BUFFER_OVERFLOW' });
    expect(errors[0]!.message).toMatch(/not reading its answers/);
  }, 120_000);

  it('both sides answering large requests of the other at once: both drain, every call answered (no mutual wait)', async () => {
    // Each side's answers pass its high-water mark while the other side's do too. Reading on for
    // the answers to its own calls is what lets both buffers drain.
    const answer = Buffer.alloc(256 * 1024, 0x62);
    const { server, port } = await resources.server({ highWaterMark: HIGH_WATER_MARK, keepAlive: false });
    server.handle('big', () => answer);
    const authenticated = next<[RpcPeer]>(server, 'authenticated');
    const client = resources.client(port, { highWaterMark: HIGH_WATER_MARK, keepAlive: false });
    client.handle('big', () => answer);
    await client.connect();
    const [peer] = await authenticated;
    const calls: Promise<number>[] = [];
    for (let i = 0; i < 200; i++) {
      calls.push(client.request('big', undefined, { timeoutMs: 60_000 }).then((value) => (value as Buffer).length));
      calls.push(server.request(peer.id, 'big', undefined, { timeoutMs: 60_000 }).then((value) => (value as Buffer).length));
    }
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 400 }, () => answer.length));
    expect(peer.stats.readingPaused).toBe(false);
    expect(client.peer?.stats.readingPaused).toBe(false);
  }, 120_000);
});
