import { afterEach, describe, expect, it } from 'vitest';
import { RpcClient } from '@proto/rpc';
import { type AckLog, type ChildServer, startChildServer } from '../../../testing/child-server.js';
import { Cleanup } from '../../../testing/cleanup.js';
import { FuzzCounter } from '../../../testing/fuzz.js';

const PASSWORD = 'kill-test-secret';
const cleanup = new Cleanup();

afterEach(async () => {
  await cleanup.run();
});

async function server(log: AckLog, port = 0): Promise<ChildServer> {
  const child = await startChildServer({ password: PASSWORD, port, serverOptions: { keepAlive: false } }, log);
  cleanup.add(child, (c) => c.kill());
  return child;
}

type Settled = { id: number; ok: true } | { id: number; ok: false; code: string };

/** Every request's single outcome, by id; a second settlement of one id fails the test. */
class Outcomes {
  readonly byId = new Map<number, Settled>();
  track(id: number, promise: Promise<unknown>): Promise<void> {
    return promise.then(
      (value) => {
        expect(this.byId.has(id)).toBe(false);
        expect(value).toEqual({ id });
        this.byId.set(id, { id, ok: true });
      },
      (error: { code?: string }) => {
        expect(this.byId.has(id)).toBe(false);
        this.byId.set(id, { id, ok: false, code: String(error.code) });
      },
    );
  }
  answered(): number[] {
    return [...this.byId.values()].filter((s) => s.ok).map((s) => s.id);
  }
  failedWith(): Set<string> {
    return new Set([...this.byId.values()].flatMap((s) => (s.ok ? [] : [s.code])));
  }
}

describe('fault injection: an rpc server process killed with SIGKILL mid-request', () => {
  it('in-flight requests reject with ERR_CONNECTION_CLOSED, the client reconnects to the restarted server, no request runs twice, nothing answered is lost', async () => {
    const stats = new FuzzCounter('rpc/fault/sigkill');
    const log: AckLog = { acks: [], starts: [] };
    const first = await server(log);
    const client = new RpcClient({
      host: '127.0.0.1',
      port: first.port,
      password: PASSWORD,
      keepAlive: false,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    client.on('error', () => {});
    cleanup.add(client, (c) => c.destroy());
    await client.connect();

    const outcomes = new Outcomes();
    const pending: Promise<void>[] = [];
    let nextId = 0;
    // A steady pipeline of 32 commits plus 4 requests that never finish, so the kill lands mid-flight.
    const holds = [0, 1, 2, 3].map(() => {
      const id = nextId++;
      const promise = outcomes.track(id, client.request('hold', { id }));
      pending.push(promise);
      return promise;
    });
    // Pumps keep requests in flight until the client notices the link is gone, so the kill always
    // lands in the middle of some of them.
    let linkLost = false;
    const disconnected = new Promise<void>((resolve) =>
      client.once('disconnect', () => {
        linkLost = true;
        resolve();
      }),
    );
    const pump = async (): Promise<void> => {
      while (!linkLost) {
        const id = nextId++;
        const promise = outcomes.track(id, client.request('commit', { id }));
        pending.push(promise);
        await promise;
      }
    };
    const pumps = Array.from({ length: 32 }, () => pump());
    await first.waitForStarts(4);
    await first.waitForAcks(300);
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    await disconnected;
    await Promise.all([...pumps, ...holds]);
    await Promise.all(pending);

    // Every request settled once: answered, or ERR_CONNECTION_CLOSED because the link dropped under
    // it (ERR_NOT_CONNECTED only for one sent after the drop, before a pump saw it).
    expect(outcomes.byId.size).toBe(nextId);
    const codes = outcomes.failedWith();
    expect(codes.has('ERR_CONNECTION_CLOSED')).toBe(true);
    for (const code of codes) expect(['ERR_CONNECTION_CLOSED', 'ERR_NOT_CONNECTED']).toContain(code);
    const commitsCut = [...outcomes.byId.values()].filter((s) => !s.ok && s.code === 'ERR_CONNECTION_CLOSED' && s.id >= 4);
    expect(commitsCut.length).toBeGreaterThan(0); // commits, not just the holds, were cut mid-flight

    // The server comes back on the same port; the client finds it by itself.
    const reauthenticated = new Promise<void>((resolve) => client.once('authenticated', () => resolve()));
    const second = await server(log, first.port);
    await reauthenticated;
    const after = Array.from({ length: 100 }, () => {
      const id = nextId++;
      return outcomes.track(id, client.request('commit', { id }));
    });
    await Promise.all(after);
    // IPC and the rpc socket are separate channels: let every ack sent before those answers arrive.
    await second.stats();

    const answered = outcomes.answered();
    const acked = new Set(log.acks);
    // No handler ran twice for one request (ids are never replayed, not even across the restart).
    expect(acked.size).toBe(log.acks.length);
    // Nothing the server answered is lost: every answer the client got was logged by the server first.
    expect(answered.filter((id) => !acked.has(id))).toEqual([]);
    // Everything after the reconnect was answered.
    expect(answered.filter((id) => id >= nextId - 100)).toHaveLength(100);
    // Requests that failed at the kill may or may not have run (at most once), never more.
    const failed = [...outcomes.byId.values()].filter((s) => !s.ok).map((s) => s.id);
    stats.runs = 1;
    stats.add('requests', nextId);
    stats.add('answered', answered.length);
    stats.add('failedAtKill', failed.length);
    stats.add('failedButRan', failed.filter((id) => acked.has(id)).length);
    stats.report();
    await second.kill('SIGKILL');
  });
});
