/** Messages between the orchestrator and a worker process. */
export type ToWorker =
  | { t: 'call'; module: string; fn: string; params: unknown }
  | { t: 'msg'; type: string; data: unknown };

export type FromWorker =
  | { t: 'msg'; type: string; data: unknown }
  | { t: 'result'; value: unknown }
  | { t: 'error'; message: string; stack: string | undefined };

/** What a role function running in a worker gets to talk to the orchestrator. */
export interface Ipc {
  post(type: string, data?: unknown): void;
  /** Next message of that type from the orchestrator (queued if it came early). */
  next<T = unknown>(type: string): Promise<T>;
}

/** A role: a function a worker runs, e.g. a server or a client of one contender. */
export type Role<P, R> = (params: P, ipc: Ipc) => Promise<R>;
