import { lstat, unlink } from 'node:fs/promises';
import * as net from 'node:net';

/** Milliseconds a probe of an existing socket file may take before the file is treated as live. */
const PROBE_TIMEOUT_MS = 1000;

/** The error `listen()` gives for a path that is in use, shaped like Node's own. */
export function addressInUse(path: string, reason: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`listen EADDRINUSE: ${path} ${reason}`);
  error.code = 'EADDRINUSE';
  error.errno = -98;
  error.syscall = 'listen';
  error.path = path;
  return error;
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Whether a server answers on the socket at `path`: `true` live, `false` refused (stale). */
function probe(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    const timer = setTimeout(() => finish(true), PROBE_TIMEOUT_MS);
    function finish(live: boolean | Error): void {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      if (live instanceof Error) reject(live);
      else resolve(live);
    }
    socket.once('connect', () => finish(true));
    socket.once('error', (error: Error) => {
      const code = codeOf(error);
      if (code === 'ECONNREFUSED') finish(false);
      else if (code === 'ENOENT') finish(false);
      else finish(error);
    });
  });
}

/**
 * Makes `path` ready to listen on. A socket file nobody answers on (left by a crashed process) is
 * removed; a live socket, or a file that is not a socket, is never touched and the call rejects
 * with an `EADDRINUSE` error.
 */
export async function prepareUnixPath(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw error;
  }
  if (!stats.isSocket()) throw addressInUse(path, '(exists and is not a socket)');
  if (await probe(path)) throw addressInUse(path, '(a server is listening on it)');
  try {
    await unlink(path);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  }
}

/** The inode of the socket file at `path`, to recognise it later; `undefined` if there is none. */
export async function socketInode(path: string): Promise<number | undefined> {
  try {
    const stats = await lstat(path);
    return stats.isSocket() ? stats.ino : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the socket file a closed server leaves behind (Node usually removes it already). Only the
 * file with inode `ino` is removed, so a socket another server has since created there survives.
 */
export async function removeUnixPath(path: string, ino: number): Promise<void> {
  try {
    const stats = await lstat(path);
    if (stats.isSocket() && stats.ino === ino) await unlink(path);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  }
}
