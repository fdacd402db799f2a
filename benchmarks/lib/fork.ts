import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker } from './ipc.js';
import { cpuForRole } from './pinning.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** Workers load TypeScript sources of the @proto packages, like the root `bench` script does. */
const BASE_EXEC_ARGV = ['--conditions=@proto/source', '--import', 'tsx'];

export interface WorkerOptions {
  /** Pass --expose-gc so the role can call global.gc(). */
  exposeGc?: boolean;
  /** Open-file limit the process needs; raised through `ulimit -n` in a shell when the current one is lower. */
  fdLimit?: number;
  /**
   * Which side this process plays: in pinned mode (lib/pinning.ts) servers and clients run on cores
   * of their own (`taskset -c`). Unpinned runs ignore it.
   * @default 'server'
   */
  role?: 'server' | 'client';
  /** More node options, e.g. `--max-semi-space-size=64` for a diagnostic run. */
  nodeArgs?: readonly string[];
}

/** BENCH_CPU_PROF=<dir> makes every worker write a V8 CPU profile there (open it in Chrome DevTools). */
function profileArgv(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

let softFdLimit: number | undefined;
/** The current soft limit on open files (what `ulimit -n` prints). */
export function currentFdLimit(): number {
  if (softFdLimit === undefined) {
    const out = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    softFdLimit = out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number.parseInt(out, 10);
  }
  return softFdLimit;
}

/** A child process running lib/worker.ts, driven over IPC. One call at a time. */
export class Worker {
  readonly #child: ChildProcess;
  readonly #queued = new Map<string, unknown[]>();
  readonly #waiting = new Map<string, { resolve: (data: unknown) => void; reject: (err: Error) => void }[]>();
  #result: { resolve: (value: unknown) => void; reject: (err: Error) => void } | undefined;
  #exited = false;
  readonly #exit: Promise<void>;

  constructor(options: WorkerOptions = {}) {
    const execArgv = [...BASE_EXEC_ARGV, ...(options.exposeGc === true ? ['--expose-gc'] : []), ...(options.nodeArgs ?? []), ...profileArgv()];
    const needShell = options.fdLimit !== undefined && currentFdLimit() < options.fdLimit;
    // taskset and the shell exec node in the end, so the IPC fd (NODE_CHANNEL_FD) is kept.
    const cpu = cpuForRole(options.role ?? 'server');
    const pin = cpu === undefined ? [] : ['taskset', '-c', String(cpu)];
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    if (needShell) {
      // Raise the soft limit (falling back to the hard one), then become node.
      const script = `ulimit -n ${options.fdLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
      this.#child = spawn('/bin/sh', ['-c', script, 'sh', ...pin, process.execPath, ...execArgv, WORKER_ENTRY], { stdio });
    } else if (pin.length > 0) {
      this.#child = spawn(pin[0]!, [...pin.slice(1), process.execPath, ...execArgv, WORKER_ENTRY], { stdio });
    } else {
      this.#child = fork(WORKER_ENTRY, [], { execArgv, stdio });
    }
    this.#child.on('message', (message: FromWorker) => this.#onMessage(message));
    this.#exit = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exited = true;
        const err = new Error(`worker exited (code ${code}, signal ${signal})`);
        this.#result?.reject(err);
        this.#result = undefined;
        for (const list of this.#waiting.values()) for (const w of list) w.reject(err);
        this.#waiting.clear();
        resolve();
      });
    });
    this.#child.on('error', () => {
      // 'exit' follows and rejects whatever is pending.
    });
  }

  #onMessage(message: FromWorker): void {
    if (message.t === 'result') {
      this.#result?.resolve(message.value);
      this.#result = undefined;
    } else if (message.t === 'error') {
      const err = new Error(message.message);
      if (message.stack !== undefined) err.stack = message.stack;
      this.#result?.reject(err);
      this.#result = undefined;
    } else {
      const w = this.#waiting.get(message.type)?.shift();
      if (w !== undefined) w.resolve(message.data);
      else {
        const q = this.#queued.get(message.type) ?? [];
        q.push(message.data);
        this.#queued.set(message.type, q);
      }
    }
  }

  /** Run `fn` exported by `module` (a file URL) in the worker; rejects after `timeoutMs`. */
  call<T>(module: string, fn: string, params: unknown, timeoutMs: number): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('worker has exited'));
    const p = new Promise<T>((resolve, reject) => {
      this.#result = { resolve: resolve as (value: unknown) => void, reject };
    });
    const message: ToWorker = { t: 'call', module, fn, params };
    this.#child.send(message);
    return withTimeout(p, timeoutMs, `${fn} in ${module.split('/').slice(-2).join('/')}`);
  }

  /** Next message of `type` posted by the role. */
  next<T>(type: string, timeoutMs: number): Promise<T> {
    const q = this.#queued.get(type);
    if (q !== undefined && q.length > 0) return Promise.resolve(q.shift() as T);
    if (this.#exited) return Promise.reject(new Error('worker has exited'));
    const p = new Promise<T>((resolve, reject) => {
      const list = this.#waiting.get(type) ?? [];
      list.push({ resolve: resolve as (data: unknown) => void, reject });
      this.#waiting.set(type, list);
    });
    return withTimeout(p, timeoutMs, `waiting for '${type}'`);
  }

  post(type: string, data?: unknown): void {
    if (this.#exited || !this.#child.connected) return;
    const message: ToWorker = { t: 'msg', type, data };
    this.#child.send(message);
  }

  /** Disconnect (the worker exits at once, writing a CPU profile if asked to), kill it if it lingers. */
  async stop(): Promise<void> {
    if (!this.#exited && this.#child.connected) this.#child.disconnect();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#exit, new Promise((resolve) => (timer = setTimeout(resolve, 3000)))]);
    clearTimeout(timer);
    if (!this.#exited) this.#child.kill('SIGKILL');
    await this.#exit;
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Module URL of a role file next to the caller, e.g. roleModule(import.meta.url, './roles.ts'). */
export function roleModule(base: string, relative: string): string {
  return new URL(relative, base).href;
}
