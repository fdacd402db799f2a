import { afterEach, describe, expect, it } from 'vitest';
import { type NsExtension, type NsReconnectingInfo, type NsServer, NsSocket } from '@proto/ns';
import { next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

const fast = { initialDelayMs: 1, maxDelayMs: 5 };

class KeepAliveTimeout extends Error {
  readonly code = 'ERR_KEEPALIVE_TIMEOUT';
}

/** Records lifecycle events of a client as strings, in order. */
function record(client: NsSocket): string[] {
  const events: string[] = [];
  client.on('connect', () => events.push('connect'));
  client.on('disconnect', (error) => events.push(`disconnect ${error?.message ?? ''}`));
  client.on('reconnecting', (info) => events.push(`reconnecting ${String(info.attempt)}`));
  client.on('close', (error) => events.push(`close ${error?.message ?? ''}`));
  client.on('error', (error) => events.push(`error ${error.message}`));
  return events;
}

/** Resolves with the next socket the server accepts. */
function nextConnection(server: NsServer): Promise<NsSocket> {
  return next<[NsSocket]>(server, 'connection').then(([socket]) => socket);
}

describe('dropLink() on a client with reconnect', () => {
  it('drops the link now, emits disconnect with the error, reconnects once as attempt 1; queued sends are flushed in order', async () => {
    const { server, client, peer } = await resources.pair({}, { reconnect: fast, offlineQueue: true });
    const events = record(client);
    const reconnecting: NsReconnectingInfo[] = [];
    client.on('reconnecting', (info) => reconnecting.push(info));
    const oldPeerClosed = next(peer, 'close');
    const accepted = nextConnection(server);
    const error = new KeepAliveTimeout('the server stopped answering');

    client.dropLink(error);

    // Synchronous: the link is gone before dropLink returns.
    expect(events).toEqual(['disconnect the server stopped answering', 'reconnecting 1']);
    expect(reconnecting).toEqual([{ attempt: 1, delayMs: expect.any(Number), error }]);
    expect(client.connected).toBe(false);
    expect(client.state).toBe('reconnecting');
    expect(client.stats.lastError).toBe(error);
    expect(client.stats.reconnects).toBe(0); // scheduled, not yet reconnected
    // Sends in the gap are queued, never ERR_NOT_CONNECTED.
    expect(client.send('queued', 1)).toBe(true);
    expect(client.send('queued', 2)).toBe(true);

    // The client's link opens at the server's hello, the server's at the client's: either may come first.
    const reconnected = next(client, 'connect');
    const newPeer = await accepted;
    const received: unknown[] = [];
    const done = new Promise<void>((resolve) =>
      newPeer.data('**', (data, segments) => {
        received.push([segments.join('::'), data]);
        if (segments[0] === 'after') resolve();
      }),
    );
    await reconnected;
    client.send('after', 3);
    await done;
    expect(received).toEqual([
      ['queued', 1],
      ['queued', 2],
      ['after', 3],
    ]);
    await oldPeerClosed; // the dropped link really closed on the server too
    expect(events).toEqual(['disconnect the server stopped answering', 'reconnecting 1', 'connect']);
    expect(client.stats.reconnects).toBe(1);
    expect(peer.state).toBe('closed');
  });

  it('does not flush what was sent on the dropped link (destroy, not end)', async () => {
    const { client, peer } = await resources.pair({}, { reconnect: fast, offlineQueue: true });
    const received: unknown[] = [];
    peer.data('**', (data) => received.push(data));
    const peerClosed = next(peer, 'close');
    client.send('lost', 1); // still in this tick's write batch
    client.dropLink();
    await peerClosed;
    expect(received).toEqual([]);
  });

  it('without an error argument, disconnect carries a ConnectionClosedError', async () => {
    const { client } = await resources.pair({}, { reconnect: fast });
    const disconnected = next<[Error | undefined]>(client, 'disconnect');
    client.dropLink();
    const [error] = await disconnected;
    expect(error).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    await next(client, 'connect');
  });

  it('without an offline queue, sends in the gap throw ERR_NOT_CONNECTED', async () => {
    const { client } = await resources.pair({}, { reconnect: fast });
    client.dropLink(new Error('dead'));
    expect(() => client.send('x', 1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    await next(client, 'connect');
    expect(client.send('x', 1)).toBe(true);
  });

  it('does not reset the attempt counter: a link that never opened counts as one more failed attempt', async () => {
    const signals: AbortSignal[] = [];
    let openingStarted: (() => void) | undefined;
    const nextOpening = (): Promise<void> => new Promise((resolve) => (openingStarted = resolve));
    // The extension never finishes opening (a handshake the peer never answers).
    const extension: NsExtension = {
      onMessage: () => {},
      onLinkOpening: (_socket, signal) => {
        signals.push(signal);
        openingStarted?.();
        return new Promise<void>(() => {});
      },
    };
    const { port } = await resources.server();
    const client = resources.track(new NsSocket({ host: '127.0.0.1', port, reconnect: { ...fast, maxAttempts: 3 }, extension }));
    const attempts: number[] = [];
    client.on('reconnecting', (info) => attempts.push(info.attempt));
    const disconnects: unknown[] = [];
    client.on('disconnect', (error) => disconnects.push(error));
    let opening = nextOpening();
    const connecting = client.connect();
    connecting.catch(() => {});
    for (let i = 1; i <= 3; i++) {
      await opening;
      opening = nextOpening();
      expect(client.state).toBe('opening');
      client.dropLink(new Error(`drop ${String(i)}`));
      expect(signals).toHaveLength(i);
      expect(signals[i - 1]!.aborted).toBe(true);
      expect(attempts).toEqual(Array.from({ length: i }, (_, k) => k + 1));
    }
    // One more failure is past maxAttempts: the socket closes and connect() rejects with it.
    await opening;
    const closed = next<[Error | undefined]>(client, 'close');
    client.dropLink(new Error('drop 4'));
    expect((await closed)[0]).toMatchObject({ message: 'drop 4' });
    await expect(connecting).rejects.toMatchObject({ message: 'drop 4' });
    expect(attempts).toEqual([1, 2, 3]);
    expect(disconnects).toEqual([]); // never open, so never "disconnected"
  });

  it('while reconnecting (no link) it does nothing: still exactly one attempt', async () => {
    const { client } = await resources.pair({}, { reconnect: { initialDelayMs: 20, maxDelayMs: 20, jitter: 0 } });
    const events = record(client);
    client.dropLink(new Error('first'));
    client.dropLink(new Error('second'));
    expect(events).toEqual(['disconnect first', 'reconnecting 1']);
    await next(client, 'connect');
    expect(events).toEqual(['disconnect first', 'reconnecting 1', 'connect']);
  });

  it('an error marked fatal closes the socket for good', async () => {
    const { client } = await resources.pair({}, { reconnect: fast });
    const events = record(client);
    const fatal = Object.assign(new Error('banned'), { fatal: true });
    client.dropLink(fatal);
    expect(events).toEqual(['close banned']);
    expect(client.state).toBe('closed');
  });
});

describe('dropLink() where there is nothing to reconnect', () => {
  it('a client without reconnect: same as destroy(error), close carries the error', async () => {
    const { client, peer } = await resources.pair();
    const events = record(client);
    const peerClosed = next(peer, 'close');
    const closed = next<[Error | undefined]>(client, 'close');
    client.dropLink(new Error('dead'));
    expect(client.connected).toBe(false);
    expect((await closed)[0]).toMatchObject({ message: 'dead' });
    await peerClosed;
    expect(events).toEqual(['error dead', 'close dead']);
    expect(client.state).toBe('closed');
  });

  it('an accepted socket: same as destroy(error); the server forgets it, the client sees the link lost', async () => {
    const { server, client, peer } = await resources.pair();
    const clientClosed = next(client, 'close');
    const closed = next<[Error | undefined]>(peer, 'close');
    peer.dropLink(new Error('evicted'));
    expect((await closed)[0]).toMatchObject({ message: 'evicted' });
    await clientClosed;
    expect(server.sockets.has(peer)).toBe(false);
  });

  it('a client ending gracefully: dropLink cuts the flush short and closes now', async () => {
    const { client } = await resources.pair({}, { reconnect: fast });
    const events = record(client);
    const ended = client.end();
    expect(client.state).toBe('closing');
    client.dropLink(new Error('dead while ending'));
    await ended;
    expect(events).toEqual(['error dead while ending', 'close dead while ending']);
  });
});

describe('dropLink() while dialing', () => {
  it('abandons the dial and counts it as a failed attempt', async () => {
    const { port } = await resources.server();
    const client = resources.track(new NsSocket({ host: '127.0.0.1', port, reconnect: { initialDelayMs: 5, maxDelayMs: 5, jitter: 0 } }));
    const events = record(client);
    const connecting = client.connect();
    expect(client.state).toBe('connecting');
    client.dropLink(new Error('not now'));
    expect(events).toEqual(['reconnecting 1']);
    expect(client.state).toBe('reconnecting');
    await connecting; // the next attempt connects
    expect(events).toEqual(['reconnecting 1', 'connect']);
  });

  it('connect() of an existing client after dropLink is not needed: the socket reconnects by itself', async () => {
    const { server, client } = await resources.pair({}, { reconnect: fast });
    const accepted = nextConnection(server);
    client.dropLink();
    expect(await client.connect()).toBe(client); // joins the pending attempt
    await accepted;
    expect(client.connected).toBe(true);
  });
});
