import type { Worker } from './fork.js';
import { formatCount } from './stats.js';
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

/**
 * Runs every contender `rounds` times, round-robin (A B C A B C), and keeps each one's best row per
 * case: other load on the machine only ever slows a run down. A failed round always wins, so a
 * broken contender is never hidden by a good round.
 */
export async function bestOfRounds<C>(
  rounds: number,
  contenders: readonly C[],
  run: (contender: C) => Promise<Measurement[]>,
  better: (a: Measurement, b: Measurement, caseIndex: number) => boolean,
): Promise<Measurement[][]> {
  const best: Measurement[][] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, contender] of contenders.entries()) {
      const rows = await run(contender);
      const kept = best[i];
      if (kept === undefined) {
        best[i] = rows;
        continue;
      }
      rows.forEach((row, caseIndex) => {
        const old = kept[caseIndex];
        if (old === undefined || old.status === 'failed') return;
        if (row.status === 'failed' || (row.status === 'ok' && (old.status !== 'ok' || better(row, old, caseIndex)))) kept[caseIndex] = row;
      });
    }
  }
  if (rounds > 1) {
    for (const rows of best) for (const row of rows) if (row.status === 'ok') row.note = [row.note, `best of ${rounds}`].filter(Boolean).join('; ');
  }
  return best;
}

export const higherOps = (a: Measurement, b: Measurement): boolean => (a.opsPerSec ?? 0) > (b.opsPerSec ?? 0);

/**
 * Like {@link bestOfRounds}, but keeps each contender's median run by `metric` (higher-is-better
 * rates), noting the spread: the steadier figure when runs vary by half, as unpinned or loaded
 * ones do. A failed round wins, as there.
 */
export async function medianOfRounds<C>(
  rounds: number,
  contenders: readonly C[],
  run: (contender: C) => Promise<Measurement[]>,
  metric: 'opsPerSec' = 'opsPerSec',
): Promise<Measurement[][]> {
  const all: Measurement[][][] = contenders.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, contender] of contenders.entries()) all[i]!.push(await run(contender));
  }
  return all.map((runs) => {
    const cases = runs[0]?.length ?? 0;
    return Array.from({ length: cases }, (_, caseIndex) => {
      const rows = runs.map((r) => r[caseIndex]!);
      const failed = rows.find((r) => r.status !== 'ok');
      if (failed !== undefined) return failed;
      const sorted = [...rows].sort((a, b) => (a[metric] ?? 0) - (b[metric] ?? 0));
      const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
      if (rows.length === 1) return mid;
      const range = `${formatCount(sorted[0]![metric])}..${formatCount(sorted.at(-1)![metric])}`;
      return { ...mid, note: [mid.note, `median of ${String(rows.length)} (${range})`].filter(Boolean).join('; ') };
    });
  });
}
