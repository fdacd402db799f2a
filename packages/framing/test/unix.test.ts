import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type FramedSocket } from '../src/index.js';
import { collectFrames, Resources } from './fixtures/helpers.js';

const resources = new Resources();

afterEach(async () => {
  await resources.closeAll();
});

/** Leaves a stale socket file at `path`: a child process listens on it and is killed with SIGKILL. */
async function makeStaleSocket(path: string): Promise<void> {
  const script = `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
}

function echoServer(options = {}) {
  return resources.server(
    createServer(options, (socket) => socket.on('frame', (frame) => socket.send(['echo:', frame]))),
  );
}

describe('Unix sockets', () => {
  it('listens on a path, exchanges frames, and removes the file on close', async () => {
    const path = join(resources.tempDir(), 'echo.sock');
    const server = echoServer();
    const address = await server.listen({ path });
    expect(address).toEqual({ host: '', port: 0, family: 'unix', path });
    expect(lstatSync(path).isSocket()).toBe(true);
    const client = resources.socket(await connect({ path }));
    expect(client.remoteAddress).toBeUndefined();
    const frames = collectFrames(client, 2);
    client.send('over unix');
    client.send(Buffer.alloc(100_000, 5));
    const [small, large] = await frames;
    expect(String(small)).toBe('echo:over unix');
    expect(large!.length).toBe(100_005);
    await server.close();
    expect(existsSync(path)).toBe(false);
  });

  it('removes a stale socket file left by a crashed process, then listens', async () => {
    const path = join(resources.tempDir(), 'stale.sock');
    await makeStaleSocket(path);
    expect(lstatSync(path).isSocket()).toBe(true);
    await expect(new Promise((resolve, reject) => net.connect({ path }).on('connect', resolve).on('error', reject)))
      .rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const server = echoServer();
    await server.listen({ path });
    expect(await tryEcho(path)).toBe('echo:ping');
  });

  it('never deletes a live socket: listen fails with EADDRINUSE and the first server keeps working', async () => {
    const path = join(resources.tempDir(), 'live.sock');
    const first = echoServer();
    await first.listen({ path });
    const second = resources.server(createServer());
    const error = await second.listen({ path }).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(await tryEcho(path)).toBe('echo:ping');
  });

  it('retries on a live socket and takes over once it is gone', async () => {
    const path = join(resources.tempDir(), 'handover.sock');
    const first = echoServer();
    await first.listen({ path });
    const second = echoServer();
    second.once('listenRetry', () => void first.close());
    await second.listen({ path, retries: 5, retryDelayMs: 10 });
    expect(second.address().path).toBe(path);
    expect(await tryEcho(path)).toBe('echo:ping');
  });

  it('never deletes a file that is not a socket', async () => {
    const path = join(resources.tempDir(), 'data.txt');
    writeFileSync(path, 'precious');
    const server = resources.server(createServer());
    const error = await server.listen({ path }).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    expect(readFileSync(path, 'utf8')).toBe('precious');
  });
});

async function tryEcho(path: string): Promise<string> {
  const client: FramedSocket = resources.socket(await connect({ path }));
  const reply = collectFrames(client, 1);
  client.send('ping');
  return String((await reply)[0]);
}
