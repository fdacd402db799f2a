// A/B of two commits in one invocation: each side is checked out into a temporary git worktree and
// installed offline, then the same workloads (./workload.ts, copied into each side) run against
// both sides alternately. The headline is load-independent: callgrind instructions per message or
// request by the delta method, (Ir(N2) - Ir(N1)) / (N2 - N1), which cancels start-up and warm-up.
// Wall-clock medians are printed for information (the machine may be shared).
//
//   node --conditions=@proto/source --import tsx benchmarks/ab/ab.ts [--base=REV] [--head=REV]
//        [--mid=REV] [--rounds=5] [--callgrind-rounds=1] [--jobs=1] [--no-callgrind] [--quick] [--write] [--keep]
//
// --mid adds a third side between the two (measured the same way, each ratio is against base),
// to tell a step's cost from what landed after it.
// --write puts the report into benchmarks/RESTRUCTURE.md; --keep leaves the worktrees and the
// callgrind files in the temporary directory (for callgrind_annotate).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
/** main just before the first restructure commit (4f0a996, framing) landed: see RESTRUCTURE.md. */
const DEFAULT_BASE = 'cedbc0b';
/** The first commit holding all three restructure commits (framing 4f0a996, ns d4e7394, rpc 4f53534). */
const RESTRUCTURED = 'b9b844f';

interface Workload {
  readonly name: string;
  readonly unit: string;
  /** Timed units of one wall-clock run. */
  readonly wall: number;
  /** The two counts of the callgrind delta. */
  readonly n1: number;
  readonly n2: number;
  /** Untimed units first (JIT tiers up), in every run and both counts, so the delta is steady state. */
  readonly warm: number;
}

const WORKLOADS: readonly Workload[] = [
  { name: 'ns-oneway', unit: 'message', wall: 50_000, n1: 10_000, n2: 50_000, warm: 20_000 },
  { name: 'rpc-c1', unit: 'request', wall: 10_000, n1: 2_000, n2: 12_000, warm: 5_000 },
  { name: 'rpc-c100', unit: 'request', wall: 20_000, n1: 2_000, n2: 12_000, warm: 5_000 },
];

interface Side {
  readonly label: 'base' | 'mid' | 'head';
  readonly rev: string;
  readonly sha: string;
  readonly subject: string;
  readonly dir: string;
}

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key = '', value = 'true'] = arg.replace(/^--/, '').split('=');
    return [key, value] as const;
  }),
);
const quick = args.has('quick');
const rounds = Number(args.get('rounds') ?? (quick ? 2 : 5));
const callgrindRounds = args.has('no-callgrind') ? 0 : Number(args.get('callgrind-rounds') ?? 1);
/** Callgrind runs at once: instruction counts do not depend on load, so they may share the cores. */
const jobs = Number(args.get('jobs') ?? 1);
const scale = quick ? 0.2 : 1;
const work = join(tmpdir(), 'proto-ab');

function git(...gitArgs: string[]): string {
  return execFileSync('git', gitArgs, { cwd: REPO, encoding: 'utf8' }).trim();
}

function prepare(label: Side['label'], rev: string): Side {
  const sha = git('rev-parse', `${rev}^{commit}`);
  const subject = git('log', '-1', '--format=%s', sha);
  const dir = join(work, sha.slice(0, 12));
  if (!existsSync(join(dir, 'node_modules'))) {
    if (existsSync(dir)) git('worktree', 'remove', '--force', dir);
    mkdirSync(work, { recursive: true });
    git('worktree', 'add', '--detach', dir, sha);
    console.error(`[ab] ${label} ${sha.slice(0, 12)}: pnpm install --frozen-lockfile --offline`);
    execFileSync('pnpm', ['install', '--frozen-lockfile', '--offline'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  copyFileSync(join(HERE, 'workload.ts'), join(dir, 'benchmarks', 'ab-workload.ts'));
  return { label, rev, sha, subject, dir };
}

const NODE_ARGS = ['--conditions=@proto/source', '--import', 'tsx', 'benchmarks/ab-workload.ts'];

function wallRun(side: Side, workload: Workload): number {
  const count = Math.round(workload.wall * scale);
  const warm = Math.round(workload.warm * scale);
  const result = spawnSync('node', [...NODE_ARGS, workload.name, String(count), String(warm)], { cwd: side.dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${side.label} ${workload.name} failed: ${result.stderr}`);
  const { ms } = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { ms: number };
  return (ms * 1000) / count;
}

const execFileAsync = promisify(execFile);

async function instructions(side: Side, workload: Workload, count: number, round: number): Promise<number> {
  const out = join(work, `callgrind.${side.label}.${workload.name}.${count}.r${round}.out`);
  const warm = Math.round(workload.warm * scale);
  const valgrind = ['--tool=callgrind', '--dump-instr=no', `--callgrind-out-file=${out}`];
  try {
    await execFileAsync('valgrind', [...valgrind, 'node', ...NODE_ARGS, workload.name, String(count), String(warm)], { cwd: side.dir, maxBuffer: 64 << 20 });
  } catch (error) {
    throw new Error(`callgrind ${side.label} ${workload.name} ${count} failed`, { cause: error });
  }
  const totals = /^totals:\s+(\d+)/m.exec(readFileSync(out, 'utf8'));
  if (totals === null) throw new Error(`no totals line in ${out}`);
  return Number(totals[1]);
}

/** Runs `tasks` with at most `limit` at once, results in order. */
async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
  return results;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

const fmt = (value: number, digits = 0): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (head: number, base: number): string => `${(head / base).toFixed(3)}`;

const startedAt = new Date();
const loadStart = loadavg();
const mid = args.get('mid') === 'true' ? RESTRUCTURED : args.get('mid');
const sides: readonly Side[] = [
  prepare('base', args.get('base') ?? DEFAULT_BASE),
  ...(mid === undefined ? [] : [prepare('mid', mid)]),
  prepare('head', args.get('head') ?? 'HEAD'),
];
/** Every round runs the sides in turn, the order reversed every other round, so drifting load hits all. */
const orderOf = (round: number): readonly Side[] => (round % 2 === 0 ? sides : [...sides].reverse());

// Wall clock: base and head alternate (the order flips every round), so drifting load hits both.
const wall = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const workload of WORKLOADS) {
    for (const side of orderOf(round)) {
      const key = `${side.label}:${workload.name}`;
      const us = wallRun(side, workload);
      wall.set(key, [...(wall.get(key) ?? []), us]);
      console.error(`[ab] wall round ${round + 1}/${rounds} ${side.label} ${workload.name}: ${fmt(us, 2)} µs/${workload.unit}`);
    }
  }
}

// Callgrind delta per side and workload, alternating too (`jobs` runs at once).
const perUnit = new Map<string, number[]>();
const deltas: (() => Promise<void>)[] = [];
for (let round = 0; round < callgrindRounds; round++) {
  for (const workload of WORKLOADS) {
    for (const side of orderOf(round)) {
      deltas.push(async () => {
        const n1 = Math.round(workload.n1 * scale);
        const n2 = Math.round(workload.n2 * scale);
        const [ir1 = 0, ir2 = 0] =
          jobs >= 2
            ? await Promise.all([instructions(side, workload, n1, round), instructions(side, workload, n2, round)])
            : [await instructions(side, workload, n1, round), await instructions(side, workload, n2, round)];
        const value = (ir2 - ir1) / (n2 - n1);
        const key = `${side.label}:${workload.name}`;
        perUnit.set(key, [...(perUnit.get(key) ?? []), value]);
        console.error(`[ab] callgrind round ${round + 1}/${callgrindRounds} ${side.label} ${workload.name}: Ir(${n1})=${ir1} Ir(${n2})=${ir2} -> ${fmt(value)} Ir/${workload.unit}`);
      });
    }
  }
}
// With jobs >= 2 a task runs its two counts at once: jobs / 2 tasks at a time.
await pool(deltas, Math.max(1, Math.floor(jobs / 2)));
const loadEnd = loadavg();

const lines: string[] = [];
const others = sides.slice(1);
const ir = callgrindRounds > 0;
lines.push(
  `| workload | unit | ${sides.map((side) => `${side.label} Ir/unit`).join(' | ')} | ${others.map((side) => `${side.label}/base (Ir)`).join(' | ')} | ${sides.map((side) => `${side.label} µs/unit`).join(' | ')} | ${others.map((side) => `${side.label}/base (wall)`).join(' | ')} |`,
);
lines.push(`| --- | --- |${' ---: |'.repeat(sides.length * 2 + others.length * 2)}`);
for (const workload of WORKLOADS) {
  const irOf = (side: Side): number => median(perUnit.get(`${side.label}:${workload.name}`) ?? []);
  const usOf = (side: Side): number => median(wall.get(`${side.label}:${workload.name}`) ?? []);
  const base = sides[0]!;
  lines.push(
    `| ${workload.name} | ${workload.unit} | ${sides.map((side) => (ir ? fmt(irOf(side)) : '-')).join(' | ')} | ${others.map((side) => (ir ? ratio(irOf(side), irOf(base)) : '-')).join(' | ')} | ${sides.map((side) => fmt(usOf(side), 2)).join(' | ')} | ${others.map((side) => ratio(usOf(side), usOf(base))).join(' | ')} |`,
  );
}
const table = lines.join('\n');
console.log(table);

const raw: string[] = [];
for (const [key, values] of perUnit) raw.push(`- callgrind ${key}: ${values.map((v) => fmt(v)).join(', ')} Ir/unit`);
for (const [key, values] of wall) raw.push(`- wall ${key}: ${values.map((v) => fmt(v, 2)).join(', ')} µs/unit`);

const command = `node --conditions=@proto/source --import tsx benchmarks/ab/ab.ts ${process.argv.slice(2).join(' ')}`.trim();
const report = `# Restructure A/B (issue 11): base vs head in one run

Written by \`benchmarks/ab/ab.ts\` (no hand edits; rerun it to refresh).

- Command: \`${command}\`
- Date: ${startedAt.toISOString()} (${Math.round((Date.now() - startedAt.getTime()) / 1000)} s)
${sides.map((side) => `- ${side.label}: \`${side.sha}\` (${side.rev}): ${side.subject}`).join('\n')}
- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} at start, ${loadEnd.map((l) => l.toFixed(2)).join(' ')} at end
- Wall clock: ${rounds} rounds, the sides in turn (order reversed every other round), median per side; warm-up ${WORKLOADS.map((w) => `${w.name} ${Math.round(w.warm * scale)}`).join(', ')} units per run
- Instructions: ${callgrindRounds} round(s) of \`valgrind --tool=callgrind --dump-instr=no\` per side and workload at two counts (after the same warm-up), ${jobs} at once, reported as (Ir(N2) - Ir(N1)) / (N2 - N1): ${WORKLOADS.map((w) => `${w.name} N1=${Math.round(w.n1 * scale)}, N2=${Math.round(w.n2 * scale)}`).join('; ')}

Each workload is one process with a loopback server and client of the same side (\`benchmarks/ab/workload.ts\`,
copied into each side's worktree), so the instruction count covers both ends of every message or
request: ns one-way small JSON messages (\`send(['bench','msg'], { i, s: 'hello world' })\` with
backpressure, counted by a \`data(['bench','*'])\` listener), rpc \`math::add\` request/response at
1 and 100 in flight over one authenticated connection. The base is the commit main stood at just
before the first restructure commit (4f0a996, framing) landed (\`git log --first-parent\` of main
runs through the feature branches that were fast-forwarded onto it, so "just before" is the main
that 4f0a996 was merged with: cedbc0b, the second parent of 6c6894e). The head includes everything
since (the restructure of framing, ns and rpc, and the features and fixes that landed on it:
resumable sessions, streams, the issue 9/10 input checks), so a head/base difference is not the
restructure's alone.${mid === undefined ? '' : ` The mid side (${mid}) is the first commit that holds all three restructure commits (framing 4f0a996, ns d4e7394, rpc 4f53534); it also holds ${git('rev-list', '--count', '--no-merges', `${sides[0]!.sha}..${sides[1]!.sha}`)} non-merge commits in all since base, among them the rpc auth hardening and the resumable-session wire format (phase 1).`}

${table}

Raw values:

${raw.join('\n')}
`;
if (args.has('write')) {
  writeFileSync(join(HERE, '..', 'RESTRUCTURE.md'), report);
  console.error('[ab] wrote benchmarks/RESTRUCTURE.md');
}
if (!args.has('keep')) {
  for (const side of sides) git('worktree', 'remove', '--force', side.dir);
} else {
  console.error(`[ab] kept ${work} (worktrees and callgrind files)`);
}
