import { type ChildProcess, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./rpc-child-server.ts', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Runs TypeScript from source, as tests and examples do. */
export const CHILD_EXEC_ARGV = ['--conditions=@proto/source', '--import', 'tsx'];

/** Options of {@link startChildServer}. */
export interface ChildServerOptions {
  password: string;
  /** Port to listen on; 0 (default) picks one. Pass the old port to restart a killed server in place. */
  port?: number;
  /** Extra RpcServer options, as JSON. */
  serverOptions?: Record<string, unknown>;
  /**
   * Raise the child's open-file limit to this (via `sh -c 'ulimit -n N; exec node ...'`), or as far
   * as the hard limit allows when N is above it.
   */
  fileLimit?: number;
  /** Extra node flags (e.g. `--expose-gc`). */
  nodeFlags?: string[];
  /**
   * Join a Redis cluster: `createRedisCluster(...)` options, as JSON (`url`, `nodeId`,
   * `nodeTimeoutMs`...). The child reports `listening` once the node is up in the cluster.
   */
  cluster?: Record<string, unknown>;
}

/** Memory and counters the child reports on request. */
export interface ChildStats {
  memory: NodeJS.MemoryUsage;
  peers: number;
  handled: number;
  resources: number;
}

/**
 * A RpcServer running in a child process (testing/rpc-child-server.ts). Records the request ids
 * its handlers acknowledged over IPC, so a test can compare them with what clients saw even after
 * the child was killed.
 */
export interface ChildServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** Ids `commit` acknowledged, in order (an id twice would mean a handler ran twice). */
  readonly acks: number[];
  /** Ids `hold` started. */
  readonly starts: number[];
  /**
   * Resolves with the exit code or signal once the child exited and its IPC channel is drained
   * (every message it wrote before dying has been received).
   */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** Resolves once `count` ids were acknowledged in total (across restarts sharing this log). */
  waitForAcks(count: number): Promise<void>;
  waitForStarts(count: number): Promise<void>;
  /** Memory and counters; also a barrier: every ack the child sent before answering has arrived. */
  stats(): Promise<ChildStats>;
  /** Asks for a full GC (needs `--expose-gc`) and resolves with memory after it. */
  gc(): Promise<NodeJS.MemoryUsage>;
  /** Resolves once at most `count` clients are authenticated on the server. */
  waitPeers(count: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/** Shared ack log, so a restarted server appends to its predecessor's record. */
export interface AckLog {
  acks: number[];
  starts: number[];
}

export async function startChildServer(options: ChildServerOptions, log: AckLog = { acks: [], starts: [] }): Promise<ChildServer> {
  const env = {
    ...process.env,
    PROTO_CHILD_PORT: String(options.port ?? 0),
    PROTO_CHILD_PASSWORD: options.password,
    PROTO_CHILD_OPTIONS: JSON.stringify(options.serverOptions ?? {}),
    ...(options.cluster === undefined ? {} : { PROTO_CHILD_CLUSTER: JSON.stringify(options.cluster) }),
  };
  const flags = [...CHILD_EXEC_ARGV, ...(options.nodeFlags ?? [])];
  let child: ChildProcess;
  if (options.fileLimit === undefined) {
    child = fork(SCRIPT, [], { cwd: REPO, env, execArgv: flags, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  } else {
    // ulimit applies to the shell, then exec hands the raised limit to node.
    const n = String(options.fileLimit);
    const command = `ulimit -n ${n} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
    child = spawn('sh', ['-c', command, process.execPath, ...flags, SCRIPT], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  // Replies by type (stats, gc-done, peers), oldest request first.
  const replies = new Map<string, ((message: Record<string, unknown>) => void)[]>();
  const check = (): void => {
    for (let i = 0; i < waiters.length; i++) {
      if (waiters[i]!.test()) {
        waiters.splice(i--, 1)[0]!.resolve();
      }
    }
  };
  let onListening!: (port: number) => void;
  const listening = new Promise<number>((resolve) => (onListening = resolve));
  child.on('message', (message: Record<string, unknown>) => {
    switch (message.type) {
      case 'listening':
        onListening(message.port as number);
        break;
      case 'ack':
        log.acks.push(message.id as number);
        check();
        break;
      case 'start':
        log.starts.push(message.id as number);
        check();
        break;
      default:
        replies.get(String(message.type))?.shift()?.(message);
    }
  });
  // 'exit' may come before the last IPC messages are read; 'disconnect' comes once the channel hit EOF.
  const channelClosed = new Promise<void>((resolve) => child.once('disconnect', resolve));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code))).then(
    async (how) => {
      await channelClosed;
      return how;
    },
  );
  const port = await Promise.race([
    listening,
    exited.then((how) => {
      throw new Error(`the child server exited (${String(how)}) before listening`);
    }),
  ]);
  const ask = (message: { type: string }, reply: string): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      let queue = replies.get(reply);
      if (queue === undefined) replies.set(reply, (queue = []));
      queue.push(resolve);
      child.send(message);
    });
  const waitFor = (test: () => boolean): Promise<void> =>
    test() ? Promise.resolve() : new Promise((resolve) => waiters.push({ test, resolve }));
  return {
    child,
    port,
    acks: log.acks,
    starts: log.starts,
    exited,
    waitForAcks: (count) => waitFor(() => log.acks.length >= count),
    waitForStarts: (count) => waitFor(() => log.starts.length >= count),
    stats: async () => (await ask({ type: 'stats' }, 'stats')) as unknown as ChildStats,
    gc: async () => (await ask({ type: 'gc' }, 'gc-done')).memory as NodeJS.MemoryUsage,
    waitPeers: async (count) => {
      await ask({ type: 'waitPeers', count } as { type: string }, 'peers');
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
