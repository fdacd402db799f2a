import { spawn } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcChannels, RpcError } from '../src/index.js';
import { fixture, Resources } from './helpers.js';

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

/** A pair whose server answers `ok` with 1 and fails `fail` with RpcError NOPE. */
async function pairWithOkAndFail(): ReturnType<Resources['pair']> {
  const pair = await resources.pair();
  pair.server.handle('ok', () => 1);
  pair.server.handle('fail', () => {
    throw new RpcError('NOPE', 'no');
  });
  return pair;
}

describe('diagnostics channels', () => {
  it('publish auth, request start, end and error', async () => {
    const auth = record(RpcChannels.auth);
    const start = record(RpcChannels.requestStart);
    const end = record(RpcChannels.requestEnd);
    const error = record(RpcChannels.requestError);
    const { client, peer } = await pairWithOkAndFail();
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

  it('publish request end and error to subscribers of those channels alone (nobody on request:start)', async () => {
    expect(diagnosticsChannel.channel(RpcChannels.requestStart).hasSubscribers).toBe(false);
    const end = record(RpcChannels.requestEnd);
    const error = record(RpcChannels.requestError);
    const { client, peer } = await pairWithOkAndFail();
    await client.request('ok');
    await expect(client.request('fail')).rejects.toMatchObject({ remoteCode: 'NOPE' });
    await expect(client.request('missing')).rejects.toMatchObject({ code: 'ERR_METHOD_NOT_FOUND' });
    expect(end).toEqual([
      { direction: 'incoming', id: 0, method: 'ok', peerId: peer.id, durationMs: expect.any(Number) },
      { direction: 'outgoing', id: 0, method: 'ok', peerId: client.peer!.id, durationMs: expect.any(Number) },
    ]);
    expect(error).toEqual([
      expect.objectContaining({ direction: 'incoming', id: 1, method: 'fail', peerId: peer.id, durationMs: expect.any(Number) }),
      expect.objectContaining({ direction: 'outgoing', id: 1, method: 'fail', error: expect.objectContaining({ remoteCode: 'NOPE' }) }),
      expect.objectContaining({ direction: 'outgoing', id: 2, method: 'missing', error: expect.objectContaining({ code: 'ERR_METHOD_NOT_FOUND' }) }),
    ]);
  });

  it('publish the error of a request that timed out to a request:error subscriber alone', async () => {
    const error = record(RpcChannels.requestError);
    const { server, client } = await resources.pair();
    const handlerAborted = new Promise<void>((resolve) => {
      server.handle('slow', (_params, ctx) => new Promise<never>(() => ctx.signal.addEventListener('abort', () => resolve())));
    });
    await expect(client.request('slow', undefined, { timeoutMs: 1 })).rejects.toMatchObject({ code: 'ERR_REQUEST_TIMEOUT' });
    await handlerAborted;
    expect(error).toContainEqual(
      expect.objectContaining({ direction: 'outgoing', method: 'slow', error: expect.objectContaining({ code: 'ERR_REQUEST_TIMEOUT' }) }),
    );
  });
});

describe('NODE_DEBUG=proto', () => {
  it('logs through a subscriber of the diagnostics channels, and only when it is set', async () => {
    const run = (debug: string | undefined): Promise<{ stdout: string; stderr: string; code: number | null }> => {
      const env = { ...process.env };
      delete env.NODE_DEBUG;
      if (debug !== undefined) env.NODE_DEBUG = debug;
      const child = spawn(process.execPath, ['--conditions=@proto/source', '--import', 'tsx', fixture('debug-log-child.ts')], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      return new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => resolve({ stdout, stderr, code }));
      });
    };
    const [on, off] = await Promise.all([run('proto'), run(undefined)]);
    expect(on.code).toBe(0);
    expect(JSON.parse(on.stdout)).toEqual({ auth: true, error: true, timeout: true, requestEnd: false });
    expect(on.stderr).toMatch(/PROTO \d+: rpc server: authentication failed from 127\.0\.0\.1: wrong-password/);
    expect(on.stderr).toMatch(/PROTO \d+: rpc server: authenticated 127\.0\.0\.1 as peer-\d+/);
    expect(on.stderr).toMatch(/PROTO \d+: rpc client: authenticated 127\.0\.0\.1/);
    expect(on.stderr).toMatch(/PROTO \d+: ns: link open \(accepted\) 127\.0\.0\.1:\d+/);
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toEqual({ auth: false, error: false, timeout: false, requestEnd: false });
    expect(off.stderr).toBe('');
  });
});
