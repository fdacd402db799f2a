import { afterEach, describe, expect, it } from 'vitest';
import { type AuthFailedInfo, RpcErrorCode } from '../src/index.js';
import { PendingAuthPool } from '../src/pending-auth.js';
import { RawRpcLink } from '../../../testing/rpc-wire.js';
import { closed, next, PASSWORD, Resources } from './helpers.js';

class Holder {
  evictions = 0;
  constructor(readonly name: string) {}
  evicted(): void {
    this.evictions++;
  }
}

/** A holder that says whether it still awaits its proof, as a server connection does. */
class Connecting extends Holder {
  proofSent = false;
  awaitingProof(): boolean {
    return !this.proofSent;
  }
}

describe('PendingAuthPool', () => {
  it('lets one address take the whole pool while it is alone, and refuses it past the pool', () => {
    const pool = new PendingAuthPool<Holder>(4, 2);
    const holders = Array.from({ length: 4 }, (_, i) => new Holder(`a${String(i)}`));
    for (const h of holders) expect(pool.acquire('a', h)).toBe(true);
    expect(pool.acquire('a', new Holder('a4'))).toBe(false);
    expect(pool.size).toBe(4);
    expect(holders.map((h) => h.evictions)).toEqual([0, 0, 0, 0]);
  });

  it('a full pool evicts the oldest holder of the address over its share for another address', () => {
    const pool = new PendingAuthPool<Holder>(4, 2);
    const a = Array.from({ length: 3 }, (_, i) => new Holder(`a${String(i)}`));
    for (const h of a) pool.acquire('a', h);
    const b0 = new Holder('b0');
    pool.acquire('b', b0);
    // a holds 3 > 2: b's second connection evicts a's oldest.
    const b1 = new Holder('b1');
    expect(pool.acquire('b', b1)).toBe(true);
    expect(a.map((h) => h.evictions)).toEqual([1, 0, 0]);
    expect(pool.size).toBe(4);
    // Now a and b both hold 2: nobody is over their share, so a third address is refused.
    expect(pool.acquire('c', new Holder('c0'))).toBe(false);
    // And b, at its share, cannot evict either.
    expect(pool.acquire('b', new Holder('b2'))).toBe(false);
    expect(a.map((h) => h.evictions)).toEqual([1, 0, 0]);
  });

  it('evicts from the address holding the most', () => {
    const pool = new PendingAuthPool<Holder>(6, 1);
    const a = [new Holder('a0'), new Holder('a1')];
    const b = [new Holder('b0'), new Holder('b1'), new Holder('b2'), new Holder('b3')];
    for (const h of a) pool.acquire('a', h);
    for (const h of b) pool.acquire('b', h);
    expect(pool.acquire('c', new Holder('c0'))).toBe(true);
    expect(b[0]!.evictions).toBe(1);
    expect(a.every((h) => h.evictions === 0)).toBe(true);
  });

  // Issue 10.1, "think Unix sockets": every peer of a Unix socket is one address, so silent
  // connections of a local process used to lock every other local client out of the pool.
  it('a newcomer of the full pool\'s largest address evicts that address\'s oldest connection still awaiting its proof', () => {
    const pool = new PendingAuthPool<Connecting>(4, 2);
    const a = Array.from({ length: 4 }, (_, i) => new Connecting(`a${String(i)}`));
    for (const h of a) pool.acquire('', h);
    a[0]!.proofSent = true; // its proof waits for the throttle: kept
    expect(pool.acquire('', new Connecting('honest'))).toBe(true);
    expect(a.map((h) => h.evictions)).toEqual([0, 1, 0, 0]);
    // Every holder has sent its proof: nothing to evict, the newcomer is refused.
    for (const h of a) h.proofSent = true;
    const pool2 = new PendingAuthPool<Connecting>(2, 1);
    pool2.acquire('', a[2]!);
    pool2.acquire('', a[3]!);
    expect(pool2.acquire('', new Connecting('late'))).toBe(false);
  });

  it('release is idempotent and frees the slot', () => {
    const pool = new PendingAuthPool<Holder>(1, 1);
    const h = new Holder('a0');
    pool.acquire('a', h);
    pool.release(h);
    pool.release(h);
    pool.release(new Holder('never'));
    expect(pool.size).toBe(0);
    expect(pool.acquire('a', new Holder('a1'))).toBe(true);
  });
});

describe('maxPendingAuthPerAddress', () => {
  const resources = new Resources();
  const links: RawRpcLink[] = [];
  afterEach(async () => {
    for (const link of links.splice(0)) link.destroy();
    await resources.closeAll();
  });

  it('an evicted connection gets ERR_OVERLOADED (reason too-many-pending) and the newcomer authenticates', async () => {
    const { server, port } = await resources.server({ maxPendingAuth: 3, maxPendingAuthPerAddress: 1, authTimeoutMs: 10_000 });
        const silent = [await resources.rawSocket(port), await resources.rawSocket(port), await resources.rawSocket(port)];
    await new Promise<void>((resolve) => {
      const check = (): void => (server.pendingAuth === 3 ? resolve() : void setImmediate(check));
      check();
    });
    // All three came from 127.0.0.1 and sent nothing: a client from that address evicts the oldest...
    const evictedForSameAddress = next<[AuthFailedInfo]>(server, 'authFailed');
    await resources.client(port).connect();
    expect((await evictedForSameAddress)[0]).toEqual({ address: '127.0.0.1', reason: 'too-many-pending' });
    await closed(silent.shift()!);
    silent.push(await resources.rawSocket(port)); // full again: three silent from 127.0.0.1
    await new Promise<void>((resolve) => {
      const check = (): void => (server.pendingAuth === 3 ? resolve() : void setImmediate(check));
      check();
    });
    // ...and one from another address evicts the oldest of them too.
    const failed = next<[AuthFailedInfo]>(server, 'authFailed');
    const newcomer = await RawRpcLink.open(port, '127.0.0.4');
    links.push(newcomer);
    expect(newcomer.authFailCode).toBeUndefined();
    expect(await newcomer.authenticate(PASSWORD)).toBe(true);
    expect((await failed)[0]).toEqual({ address: '127.0.0.1', reason: 'too-many-pending' });
    await closed(silent[0]!);
    expect(silent[1]!.destroyed).toBe(false);
    expect(server.pendingAuth).toBe(2);
  });

  it('is validated', async () => {
    await expect(resources.server({ maxPendingAuthPerAddress: 0 })).rejects.toMatchObject({ code: RpcErrorCode.INVALID_ARG });
  });
});
