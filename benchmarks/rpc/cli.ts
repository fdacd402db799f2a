// The CLI's own `proto bench` (packages/cli, run as users run it: its bin in a child process of the
// client worker, so on the client's core) against the rpc suite's server, one connection with the
// same requests in flight. Its figures come from its --json summary; its CPU from an exit hook.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestOutcome, RequestParams } from '../lib/requests.js';

const BIN = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
const EXIT_HOOK = fileURLToPath(new URL('./cli-exit-cpu.ts', import.meta.url));
export const PASSWORD = 'bench-secret';

interface CliSummary {
  requests: number;
  errors: number;
  elapsedS: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

interface CpuPoint {
  t: number;
  cpuUs: number;
}

/** CPU between the sample closest after `t0` and the last one (the exit). */
function cpuSince(samples: readonly CpuPoint[], t0: number): number {
  const last = samples.at(-1);
  const first = samples.find((s) => s.t >= t0) ?? last;
  return last === undefined || first === undefined ? Number.NaN : last.cpuUs - first.cpuUs;
}

/** Seconds of `proto bench --warmup` for a run of `capMs`: a quarter of it, at most 1 s. */
export function cliWarmupS(params: Pick<RequestParams, 'capMs'>): number {
  return Math.min(1, params.capMs / 4000);
}

async function runCli(params: RequestParams, concurrency: number): Promise<RequestOutcome> {
  const cpuFile = join(tmpdir(), `proto-bench-cli-${process.pid}-${concurrency}.json`);
  const args = [
    '--conditions=@proto/source', '--import', 'tsx', '--import', EXIT_HOOK, BIN,
    'bench', `${params.host}:${params.port}`, 'math::add', '{"a":1,"b":2}',
    '--connections', '1', '--concurrency', String(concurrency), '--duration', String(params.capMs / 1000),
    // The CLI's own warm-up (the same load, untimed), as the suite's rows warm up: 1 s for a 4 s run.
    '--warmup', String(cliWarmupS(params)), '--json',
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, PROTO_PASSWORD: PASSWORD, BENCH_CLI_CPU_FILE: cpuFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`proto bench exited with ${String(code)}: ${out.trim().slice(0, 200)}`);
  const summary = JSON.parse(out.trim().split('\n').at(-1) ?? '') as CliSummary;
  const samples = JSON.parse(readFileSync(cpuFile, 'utf8')) as CpuPoint[];
  rmSync(cpuFile, { force: true });
  if (summary.errors > 0) throw new Error(`proto bench: ${summary.errors} failed requests`);
  const ms = summary.elapsedS * 1000;
  // The run ends at its last answer; the process exits within a few ms of it.
  const t1 = samples.at(-1)?.t ?? Number.NaN;
  const t0 = t1 - ms;
  const { p50, p90, p99, max } = summary.latencyMs;
  return {
    concurrency,
    count: summary.requests,
    ms,
    // From about the start of the loop to the exit (up to 50 ms late at the start, plus the exit).
    cpuUs: cpuSince(samples, t0),
    t0,
    t1,
    p50Ms: p50,
    p90Ms: p90,
    p99Ms: p99,
    maxMs: max,
  };
}

/** Client role: one `proto bench` run per concurrency. */
export async function cliBenchClient(params: RequestParams): Promise<RequestOutcome[]> {
  const outcomes: RequestOutcome[] = [];
  for (const concurrency of params.concurrencies) outcomes.push(await runCli(params, concurrency));
  return outcomes;
}
