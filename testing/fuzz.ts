import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Fuzz settings shared by every `fuzz-*.test.ts`:
 *
 * - `FUZZ_SEED` (default 0x5eed): the fast-check seed, fixed so CI runs the same cases every time.
 * - `FUZZ_RUNS` (default 1): multiplies every property's default number of runs, to scale a run up for
 *   the figures in RELIABILITY.md (`FUZZ_RUNS=50 npx vitest run fuzz-`).
 * - `FUZZ_REPORT=path`: append one JSON line per property (name, runs, inner iterations) to that file.
 */
export const FUZZ_SEED: number = parseNumber(process.env.FUZZ_SEED, 0x5eed);

const scale = parseNumber(process.env.FUZZ_RUNS, 1);

/** The number of runs for a property whose CI default is `defaultRuns`. */
export function fuzzRuns(defaultRuns: number): number {
  return Math.max(1, Math.round(defaultRuns * scale));
}

/** fast-check parameters: the fixed seed and the scaled number of runs. */
export function fuzzParams(defaultRuns: number): { seed: number; numRuns: number; endOnFailure: true } {
  return { seed: FUZZ_SEED, numRuns: fuzzRuns(defaultRuns), endOnFailure: true };
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Counts what a property exercised (runs, bytes, connections...) and, with `FUZZ_REPORT` set, appends
 * it to the report file when {@link FuzzCounter.report} is called.
 */
export class FuzzCounter {
  readonly name: string;
  runs = 0;
  readonly counts: Record<string, number> = {};

  constructor(name: string) {
    this.name = name;
  }

  add(key: string, amount = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + amount;
  }

  report(): void {
    const file = process.env.FUZZ_REPORT;
    if (file === undefined || file === '') return;
    const path = join(repoRoot, file);
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${JSON.stringify({ name: this.name, seed: FUZZ_SEED, runs: this.runs, ...this.counts })}\n`);
  }
}

function parseNumber(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`expected a positive number, got ${JSON.stringify(text)}`);
  return value;
}
