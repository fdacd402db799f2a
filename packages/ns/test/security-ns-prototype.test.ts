import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, NsSocket } from '@proto/ns';
import { Cleanup } from '../../../testing/cleanup.js';
import { eventPayload, NS_EVENT_JSON, openingBytes } from '../../../testing/ns-wire.js';
import { frame32, rawConnect } from '../../../testing/raw-socket.js';

/**
 * Regression tests for a bug these tests found (fixed in ns 9386f0c): EventEmitter2 6.4.9 keeps
 * wildcard listeners in a tree of plain objects (`tree = tree[name] || (tree[name] = {})`), so a
 * listener pattern whose segment named an Object.prototype member was stored on a built-in shared by
 * the whole process:
 * - `data('__proto__', fn)` set `Object.prototype._listeners = fn` (prototype pollution);
 * - `data('constructor', fn)` set `Object._listeners = fn`, after which an event named `constructor`
 *   received by ANY NsSocket in the process, from any peer, called fn with that peer's data.
 * ns now refuses such segments (Object.prototype's property names and `_listeners`): ERR_INVALID_ARG
 * for local patterns and sends, ERR_PROTOCOL from a peer.
 * These tests live in their own file because a regression would pollute built-ins for the whole
 * worker; afterEach removes anything planted.
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

  it("a 'constructor' listener on one socket never receives events that another peer sends to another socket", async () => {
    const server = createServer();
    cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
    const clientErrors: Error[] = [];
    server.on('clientError', (error) => clientErrors.push(error));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const fired: unknown[] = [];
    const bystanderOpened = once(server, 'connection');
    const bystander = await connect({ host: '127.0.0.1', port });
    await bystanderOpened;
    cleanup.add(bystander, (s) => s.destroy());
    let refused = false;
    try {
      bystander.data('constructor', (data: unknown) => fired.push(data));
    } catch (error) {
      refused = (error as { code?: string }).code === 'ERR_INVALID_ARG';
    }
    // The attacker speaks the wire directly, so no local check stops it from sending the name.
    const accepted = once(server, 'connection');
    const attacker = await rawConnect(port);
    cleanup.add(attacker.socket, (s) => s.destroy());
    // The server's socket opens at the hello; the event behind it waits for the connection listeners.
    attacker.socket.write(Buffer.concat([openingBytes(), frame32(eventPayload(NS_EVENT_JSON, 'constructor', '{"from":"attacker"}'))]));
    const [peer] = (await accepted) as [NsSocket];
    const closed = new Promise<Error | undefined>((resolve) => peer.once('close', resolve));
    peer.data('chat', () => fired.push('chat'));
    // Refused as a protocol error on the attacker's own link; nobody's listener ran.
    expect(((await closed) as { code?: string } | undefined)?.code).toBe('ERR_PROTOCOL');
    expect(fired).toEqual([]);
    expect(refused || !Object.hasOwn(Object, '_listeners')).toBe(true);
    expect(Object.hasOwn(Object, '_listeners')).toBe(false);
    expect(bystander.connected).toBe(true);
  });
});
