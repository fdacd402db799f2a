import type { Worker } from './fork.js';
import type { Measurement } from './types.js';

/** Prefix of errors meaning "this contender cannot run here", as opposed to "it ran and broke". */
export const UNAVAILABLE = 'UNAVAILABLE: ';

/** Import a contender module; a failure (e.g. a @proto package not exporting the API yet) marks it unavailable. */
export async function importContender<T>(url: string): Promise<T> {
  try {
    return (await import(url)) as T;
  } catch (error) {
    throw new Error(`${UNAVAILABLE}${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Turn a thrown error into a table row, keeping the first line of the message. */
export function errorRow(contender: string, error: unknown): Measurement {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = (message.split('\n')[0] ?? '').slice(0, 160);
  if (firstLine.startsWith(UNAVAILABLE)) return { contender, status: 'unavailable', note: firstLine.slice(UNAVAILABLE.length) };
  return { contender, status: 'failed', note: firstLine };
}

/** Run `body` with fresh workers, always stopping them after. */
export async function withWorkers<T>(workers: Worker[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** Log progress on stderr so stdout keeps only the tables. */
export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
