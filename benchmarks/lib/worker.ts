// Entry of every forked benchmark process: runs one role function named by the orchestrator.
import { importContender } from './contenders.js';
import type { FromWorker, Ipc, ToWorker } from './ipc.js';

const queued = new Map<string, unknown[]>();
const waiting = new Map<string, ((data: unknown) => void)[]>();

function send(message: FromWorker): void {
  process.send?.(message);
}

const ipc: Ipc = {
  post(type, data) {
    send({ t: 'msg', type, data });
  },
  next<T>(type: string): Promise<T> {
    const q = queued.get(type);
    if (q !== undefined && q.length > 0) return Promise.resolve(q.shift() as T);
    return new Promise<T>((resolve) => {
      const list = waiting.get(type) ?? [];
      list.push(resolve as (data: unknown) => void);
      waiting.set(type, list);
    });
  },
};

function deliver(type: string, data: unknown): void {
  const w = waiting.get(type);
  const resolve = w?.shift();
  if (resolve !== undefined) return resolve(data);
  const q = queued.get(type) ?? [];
  q.push(data);
  queued.set(type, q);
}

async function call(module: string, fn: string, params: unknown): Promise<void> {
  try {
    // A module that fails to load (e.g. a @proto package without that API yet) is reported as unavailable.
    const mod = await importContender<Record<string, unknown>>(module);
    const role = mod[fn];
    if (typeof role !== 'function') throw new Error(`${module} has no export ${fn}`);
    const value: unknown = await (role as (p: unknown, i: Ipc) => Promise<unknown>)(params, ipc);
    send({ t: 'result', value });
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    send({ t: 'error', message: err.message, stack: err.stack });
  }
}

process.on('message', (message: ToWorker) => {
  if (message.t === 'call') void call(message.module, message.fn, message.params);
  else deliver(message.type, message.data);
});
// A crash inside a role's event handler would otherwise only show up as a reset connection on the other side.
process.on('uncaughtException', (error) => {
  send({ t: 'error', message: `uncaught: ${error.message}`, stack: error.stack });
  setTimeout(() => process.exit(1), 100);
});
// The orchestrator going away means nobody reads our result: stop.
process.on('disconnect', () => process.exit(0));
