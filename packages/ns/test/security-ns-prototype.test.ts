import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, NsSocket } from '@proto/ns';
import { Cleanup } from '../../../testing/cleanup.js';

/**
 * BUG (ns, through EventEmitter2's wildcard listener tree): a listener pattern whose segment names
 * an Object.prototype member is stored on a built-in object shared by the whole process.
 *
 * NsSocket.data(pattern) (packages/ns/src/ns-socket.ts, `data()` → `super.on(dataEvent(event))`)
 * accepts any segment that passes patternSegments() (packages/ns/src/event-name.ts), including
 * `__proto__`, `constructor`, `toString`, `hasOwnProperty`, `valueOf`. EventEmitter2 6.4.9's
 * growListenerTree does `tree = tree[name] || (tree[name] = {})` on plain objects, so:
 * - `data('__proto__', fn)` walks into Object.prototype and sets `Object.prototype._listeners = fn`
 *   (prototype pollution: every EventEmitter2 tree node in the process now "has" that listener);
 * - `data('constructor', fn)` sets `Object._listeners = fn` on the global Object function, so an
 *   event named `constructor` received by ANY NsSocket in the process (from any peer) calls fn with
 *   that peer's data, even on a socket where fn was never registered.
 *
 * Reproduction: see the tests below (both fail today; they pass once such segments are refused in
 * patterns and in received names, or escaped before they reach EventEmitter2).
 * These tests live in their own file because the bug pollutes built-ins for the whole worker;
 * afterEach removes what it planted.
 */

const cleanup = new Cleanup();

afterEach(async () => {
  await cleanup.run();
  for (const target of [Object.prototype, Object, Object.prototype.toString, Object.prototype.hasOwnProperty, Object.prototype.valueOf]) {
    if (Object.hasOwn(target, '_listeners')) delete (target as { _listeners?: unknown })._listeners;
  }
});

describe('security: listener patterns cannot reach shared built-ins', () => {
  it("data('__proto__', fn) leaves Object.prototype untouched (or is refused with ERR_INVALID_ARG)", () => {
    const socket = new NsSocket();
    let refused = false;
    try {
      socket.data('__proto__', () => {});
    } catch (error) {
      refused = (error as { code?: string }).code === 'ERR_INVALID_ARG';
    }
    expect(refused || !Object.hasOwn(Object.prototype, '_listeners')).toBe(true);
    expect(Object.hasOwn(Object.prototype, '_listeners')).toBe(false);
  });

  it.fails("a 'constructor' listener on one socket never receives events that another peer sends to another socket", async () => {
    const server = createServer();
    cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const fired: unknown[] = [];
    const bystander = await connect({ host: '127.0.0.1', port });
    cleanup.add(bystander, (s) => s.destroy());
    try {
      bystander.data('constructor', (data: unknown) => fired.push(data));
    } catch {
      // refusing the pattern is a fine fix too
    }
    const accepted = once(server, 'connection');
    const attacker = await connect({ host: '127.0.0.1', port });
    cleanup.add(attacker, (s) => s.destroy());
    const [peer] = (await accepted) as [NsSocket];
    const done = new Promise<void>((resolve) => peer.dataOnce('done', () => resolve()));
    peer.data('chat', () => {});
    attacker.send('constructor', { from: 'attacker' });
    attacker.send('done', 1);
    await done;
    // The bystander's listener ran for a message that never reached the bystander's socket.
    expect(fired).toEqual([]);
  });
});
