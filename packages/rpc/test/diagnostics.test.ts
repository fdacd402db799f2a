import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcChannels, RpcError } from '../src/index.js';
import { Resources } from './helpers.js';

const resources = new Resources();
const unsubscribers: (() => void)[] = [];
afterEach(async () => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
  await resources.closeAll();
});

function record(name: string): unknown[] {
  const messages: unknown[] = [];
  const listener = (message: unknown): void => {
    messages.push(message);
  };
  diagnosticsChannel.subscribe(name, listener);
  unsubscribers.push(() => diagnosticsChannel.unsubscribe(name, listener));
  return messages;
}

describe('diagnostics channels', () => {
  it('publish auth, request start, end and error', async () => {
    const auth = record(RpcChannels.auth);
    const start = record(RpcChannels.requestStart);
    const end = record(RpcChannels.requestEnd);
    const error = record(RpcChannels.requestError);
    const { server, client, peer } = await resources.pair();
    server.handle('ok', () => 1);
    server.handle('fail', () => {
      throw new RpcError('NOPE', 'no');
    });
    await client.request('ok');
    await client.request('fail').catch(() => undefined);
    expect(auth).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ side: 'server', ok: true, peerId: peer.id, address: '127.0.0.1' }),
        expect.objectContaining({ side: 'client', ok: true }),
      ]),
    );
    expect(start).toEqual([
      expect.objectContaining({ direction: 'outgoing', method: 'ok', id: 0 }),
      expect.objectContaining({ direction: 'incoming', method: 'ok', id: 0, peerId: peer.id }),
      expect.objectContaining({ direction: 'outgoing', method: 'fail', id: 1 }),
      expect.objectContaining({ direction: 'incoming', method: 'fail', id: 1 }),
    ]);
    expect(end).toEqual([
      expect.objectContaining({ direction: 'incoming', method: 'ok' }),
      expect.objectContaining({ direction: 'outgoing', method: 'ok', durationMs: expect.any(Number) }),
    ]);
    expect(error).toEqual([
      expect.objectContaining({ direction: 'incoming', method: 'fail' }),
      expect.objectContaining({ direction: 'outgoing', method: 'fail', error: expect.objectContaining({ remoteCode: 'NOPE' }) }),
    ]);
  });

  it('publishes failed authentication', async () => {
    const auth = record(RpcChannels.auth);
    const { port } = await resources.server({ authThrottle: false });
    await resources.client(port, { password: 'nope' }).connect().catch(() => undefined);
    expect(auth).toEqual(
      expect.arrayContaining([expect.objectContaining({ side: 'server', ok: false, reason: 'wrong-password' })]),
    );
  });
});
