// Unix domain socket: the same ns server and client, addressed by a path instead of host/port.
//   npx tsx --conditions=@proto/source examples/unix-socket/unix.ts
//
// Also shows how listen() treats a socket file that already exists: a stale one left by a crashed
// process is removed, a live one is never stolen (EADDRINUSE).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from '@proto/ns';

const started = performance.now();
function log(text: string): void {
  console.log(`${String(Math.round(performance.now() - started)).padStart(4)} ms  ${text}`);
}
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`unexpected: ${what}`);
}

const dir = mkdtempSync(join(tmpdir(), 'proto-unix-'));
const path = join(dir, 'app.sock');
try {
  // 1. A process listens on the path and is killed with SIGKILL: its socket file stays behind.
  const crashed = spawn(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => console.log('up'))", path]);
  await new Promise((resolve) => crashed.stdout.once('data', resolve));
  crashed.kill('SIGKILL');
  await new Promise((resolve) => crashed.once('exit', resolve));
  log(`1. a crashed process left ${path} behind (exists: ${existsSync(path)})`);

  // 2. Our server finds nobody answering on it, removes the stale file and listens.
  const server = createServer((socket) => {
    socket.data(['jobs', '*'], (job, [, kind]) => socket.send(['done', kind!], { job, by: process.pid }));
  });
  const address = await server.listen({ path });
  log(`2. listening on ${address.path} (family ${address.family}); the stale file was replaced`);

  // 3. A second server on the same path finds it live and refuses to take it over.
  const intruder = createServer(() => {});
  const refused = await intruder.listen({ path }).then(
    () => 'listening (wrong!)',
    (error: NodeJS.ErrnoException) => error.code,
  );
  await intruder.close();
  log(`3. a second server on the same path: ${refused}`);
  check(refused === 'EADDRINUSE', 'second listen should fail with EADDRINUSE');

  // 4. A client connects by path; everything else is as over TCP.
  const client = await connect({ path });
  const done = new Promise<unknown>((resolve) => client.dataOnce(['done', '*'], (data) => resolve(data)));
  client.send(['jobs', 'resize'], { image: 'cat.png', width: 64 });
  log(`4. client sent jobs::resize; got back ${JSON.stringify(await done)}`);

  // 5. Closing removes the socket file (only the one this server created).
  await client.end();
  await server.close();
  log(`5. closed; socket file exists: ${existsSync(path)}`);
  check(!existsSync(path), 'the socket file should be gone');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
