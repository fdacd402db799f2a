// Sentences computed from a run's own rows, so RESULTS.md explains its figures without hand edits.
import { formatFixed } from '../lib/stats.js';
import type { Measurement } from '../lib/types.js';

const ms = (v: number | undefined) => `${formatFixed(v, 3)} ms`;
const bytes = (v: number | undefined) => `${formatFixed(v, 0)} B`;

/** Share of wall time some process of the pair spent inside a GC pause (both sides' pauses, summed). */
function pauseShare(row: Measurement): number | undefined {
  return row.gcUsPerOp === undefined || row.opsPerSec === undefined ? undefined : (row.gcUsPerOp * row.opsPerSec) / 1e6;
}

/** Where the c=100 tail comes from, as far as GC explains it: p99 against the pauses in the same window. */
export function tailFinding(contender: Measurement | undefined, reference: Measurement | undefined, bigYoung?: Measurement): string | undefined {
  if (contender?.status !== 'ok' || reference?.status !== 'ok' || contender.p99Ms === undefined || reference.p99Ms === undefined) return undefined;
  const share = pauseShare(contender);
  const refShare = pauseShare(reference);
  const pct = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
  const head =
    `Tail at c=100 (measured in this run): ${contender.contender} p99 ${ms(contender.p99Ms)} against ${ms(reference.p99Ms)} for the raw baseline ` +
    `(${(contender.p99Ms / reference.p99Ms).toFixed(2)}x; p50 ${ms(contender.p50Ms)} against ${ms(reference.p50Ms)}). ` +
    `In the same window it allocated ${bytes(contender.serverAllocPerOp)} (server) + ${bytes(contender.clientAllocPerOp)} (client) per request ` +
    `against ${bytes(reference.serverAllocPerOp)} + ${bytes(reference.clientAllocPerOp)}, and the two processes spent ${pct(share)} of the time in GC pauses ` +
    `(raw: ${pct(refShare)}), the longest ${ms(contender.gcMaxMs)} (raw: ${ms(reference.gcMaxMs)}). `;
  const ratio = contender.p99Ms / reference.p99Ms;
  const level = ratio <= 1.3 ? 'The tail is within 1.3x of the raw baseline\'s. ' : '';
  if (bigYoung?.status === 'ok' && bigYoung.p99Ms !== undefined) {
    const shrinks = bigYoung.p99Ms < contender.p99Ms * 0.85;
    return (
      head + level +
      `Check in the same run: with a young generation 4x larger (${bigYoung.contender}: about a quarter of the collections) its p99 was ${ms(bigYoung.p99Ms)} ` +
      `(${(bigYoung.p99Ms / reference.p99Ms).toFixed(2)}x raw) with ${pct(pauseShare(bigYoung))} of the time in pauses: ` +
      (shrinks
        ? 'the tail shrinks with the collections, so young-generation pauses are its main source, and the allocation per request (which sets how often they come) is the lever.'
        : 'the tail hardly moves, so collections are not its main source: what remains is scheduling and CPU per request (a request waits for the reads, handler runs and flushes of the requests ahead of it).')
    );
  }
  const verdict =
    share !== undefined && share >= 0.01
      ? 'More than 1% of the time one of the processes is paused, so pauses can reach the slowest 1% of requests.'
      : 'Less than 1% of the time is spent in pauses, so collection alone does not set the p99.';
  return head + level + verdict;
}
