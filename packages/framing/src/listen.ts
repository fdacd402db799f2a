import type * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResolvedAddress } from './address.js';
import { AbortedError } from './errors.js';
import type { ListenRetryEvent } from './server-options.js';
import { toError } from './to-error.js';
import { prepareUnixPath } from './unix-socket.js';

/** How one `listen()` call tries, after validation. */
export interface ListenPlan {
  readonly address: ResolvedAddress;
  readonly backlog: number | undefined;
  /** Retries after `EADDRINUSE`. */
  readonly retries: number;
  readonly delayMs: number;
  /** Aborted by the server's `close()`: the attempt stops, waiting or not, with `ERR_ABORTED`. */
  readonly signal: AbortSignal;
  /** Called before each retry's wait. */
  readonly onRetry: (event: ListenRetryEvent) => void;
}

function closedWhileStarting(signal: AbortSignal): AbortedError {
  return new AbortedError('the server was closed while starting to listen', { cause: signal.reason });
}

/**
 * Listens on `plan.address`, trying again after `EADDRINUSE` up to `plan.retries` times, `delayMs`
 * apart (a Unix socket path is checked for a stale file before each try).
 *
 * @throws Error (rejects) with `code` `EADDRINUSE` once the retries are used up, or Node's error.
 * @throws AbortedError (rejects) when `plan.signal` aborts first.
 */
export async function listenWithRetries(server: net.Server, plan: ListenPlan): Promise<void> {
  const { address, signal } = plan;
  for (let attempt = 1; ; attempt++) {
    try {
      if (address.kind === 'unix') await prepareUnixPath(address.path);
      if (signal.aborted) throw closedWhileStarting(signal);
      await listenOnce(server, address, plan.backlog);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' || attempt > plan.retries || signal.aborted) throw error;
      plan.onRetry({ attempt, delayMs: plan.delayMs, error: toError(error) });
      try {
        await sleep(plan.delayMs, undefined, { signal });
      } catch {
        throw new AbortedError('the server was closed while waiting to retry listen()', { cause: signal.reason });
      }
    }
  }
}

function listenOnce(server: net.Server, address: ResolvedAddress, backlog: number | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.removeListener('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    const where = address.kind === 'unix' ? { path: address.path } : { host: address.host, port: address.port };
    server.listen(backlog === undefined ? where : { ...where, backlog });
  });
}
