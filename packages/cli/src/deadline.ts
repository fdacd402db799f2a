import { CliTimeoutError } from './errors.js';

/**
 * `promise`, or a {@link CliTimeoutError} (exit 4) with `message` once `ms` passed first; 0 waits
 * as long as it takes. The timer is cleared either way.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  if (ms <= 0) return promise;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CliTimeoutError(message)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
