import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';

/**
 * A real `redis-server` for tests (Debian's `redis-server` package; `.ci/run` installs it): on
 * 127.0.0.1 and a free port, with no persistence (`--save '' --appendonly no`), so a restart comes
 * back empty as after a crash. `kill()` makes an outage, `start()` brings it back on the same
 * port. Every process is killed by `stop()`, and by the exit of this process at the latest.
 */
export class RedisServer {
  port = 0;
  #process: ChildProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  /** Start (again, on the same port once it had one). Resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.#process !== undefined) throw new Error('redis-server is already running');
    if (this.port === 0) this.port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'notice'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#process = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const collect = (chunk: Buffer): void => {
        output += chunk.toString();
        // Logged once the listening socket is open.
        if (output.includes('Ready to accept connections')) resolve();
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${String(signal ?? code)}): ${output}`)));
    });
    await ready;
  }

  /** SIGKILL, as a crash: resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    this.#process = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  }

  /** SIGSTOP: connections stay open but nothing is answered (a frozen server). */
  pause(): void {
    this.#process?.kill('SIGSTOP');
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    this.#process?.kill('SIGCONT');
  }

  /** Stop for good. */
  stop(): Promise<void> {
    return this.kill();
  }
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
