import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { defineContract, type ListenOptions, RpcError, RpcServer, type RpcServerOptions } from '@proto/rpc';
import { z } from 'zod';
import { type CliIo, type OutputStream, run } from '../src/index.js';
import type { Cleanup } from '../../../testing/cleanup.js';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
/** Runs the bin from its TypeScript source, as the other child-process tests do. */
const EXEC_ARGV = ['--conditions=@proto/source', '--import', 'tsx'];

export const PASSWORD = 'correct horse battery staple';

/** The environment a child gets: this one without password or colour settings, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['PROTO_PASSWORD', 'NO_COLOR', 'FORCE_COLOR', 'NODE_DEBUG']) delete env[name];
  return { ...env, ...extra };
}

/** Options of {@link proto} and {@link startProto}. */
export interface ProtoOptions {
  /** Extra environment variables (PROTO_PASSWORD is not inherited). */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
}

/** How a finished `proto` run ended. */
export interface ProtoResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A `proto` child still running (sub, serve): its output so far, line waiters, and its end. */
export interface RunningProto {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the first line of stdout (or stderr) that `test` accepts, as soon as it is printed. */
  line(test: (line: string) => boolean, stream?: 'stdout' | 'stderr'): Promise<string>;
  readonly done: Promise<ProtoResult>;
}

/** Start `proto ...args` as a child process running the bin. */
export function startProto(args: readonly string[], options: ProtoOptions = {}): RunningProto {
  const child = spawn(process.execPath, [...EXEC_ARGV, BIN, ...args], {
    cwd: REPO,
    env: childEnv(options.env),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  const text = { stdout: '', stderr: '' };
  const waiters: { stream: 'stdout' | 'stderr'; test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const check = (): void => {
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters[i]!;
      const found = text[waiter.stream].split('\n').slice(0, -1).find(waiter.test);
      if (found !== undefined) {
        waiters.splice(i--, 1);
        waiter.resolve(found);
      }
    }
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.setEncoding('utf8');
    child[stream]!.on('data', (chunk: string) => {
      text[stream] += chunk;
      check();
    });
  }
  const done = new Promise<ProtoResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout: text.stdout, stderr: text.stderr }));
  });
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    line(test, stream = 'stdout') {
      return new Promise((resolve, reject) => {
        waiters.push({ stream, test, resolve });
        check();
        void done.then((result) => reject(new Error(`proto exited (${result.code ?? result.signal}) before printing the line:\n${result.stdout}\n${result.stderr}`)));
      });
    },
    done,
  };
}

/** Run `proto ...args` to its end. */
export function proto(args: readonly string[], options: ProtoOptions = {}): Promise<ProtoResult> {
  return startProto(args, options).done;
}

/** The environment entry with the test password. */
export const withPassword = (password = PASSWORD): Record<string, string> => ({ PROTO_PASSWORD: password });

/** A fresh temporary directory (for Unix sockets and files), removed by the returned function. */
export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'proto-cli-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Methods of the test server: a contract method, untyped ones, a failing one, one that never answers. */
export const testContract = defineContract({
  'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
});

/** An RpcServer with the test methods, listening on 127.0.0.1:0 (or `listen`'s path). */
export async function startServer(
  options: Partial<RpcServerOptions<typeof testContract.methods>> = {},
  listen: ListenOptions = { host: '127.0.0.1', port: 0 },
): Promise<{ server: RpcServer<typeof testContract.methods>; address: string; handled: unknown[] }> {
  const server = new RpcServer({ password: PASSWORD, contract: testContract, keepAlive: false, ...options });
  const handled: unknown[] = [];
  server.handle('math::add', ({ a, b }) => a + b);
  server.handle(['echo'], (params: unknown) => {
    handled.push(params);
    return params;
  });
  server.handle(['teapot'], () => {
    throw new RpcError('E_TEAPOT', "I'm a teapot", { brew: 'coffee' });
  });
  server.handle(['hang'], (_params, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))));
  const bound = await server.listen(listen);
  const address = bound.path !== undefined ? `unix:${bound.path}` : `${options.tls === undefined ? '' : 'tls://'}127.0.0.1:${bound.port}`;
  return { server, address, handled };
}

/** An in-process `run()` of the CLI: the same code as the bin, without a process per case. */
export async function runInProcess(
  args: readonly string[],
  options: ProtoOptions & { signal?: AbortSignal; tty?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const text = { stdout: '', stderr: '' };
  const sink = (name: 'stdout' | 'stderr'): OutputStream =>
    Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          text[name] += chunk.toString();
          callback();
        },
      }),
      { isTTY: options.tty === true },
    );
  const io: CliIo = {
    stdin: Readable.from(options.input === undefined ? [] : [options.input]),
    stdout: sink('stdout'),
    stderr: sink('stderr'),
    env: { ...(options.env ?? {}) },
    signal: options.signal ?? new AbortController().signal,
  };
  const code = await run(args, io);
  return { code, ...text };
}

/** {@link startServer} with the default options, closed by `cleanup`. */
export async function cleanServer(cleanup: Cleanup): Promise<Awaited<ReturnType<typeof startServer>>> {
  const started = await startServer();
  cleanup.defer(() => started.server.close());
  return started;
}
