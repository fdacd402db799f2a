import type { RpcClient } from '@proto/rpc';
import { formatAddress } from '../address.js';
import { type CommandSpec, intValue, nonNegativeNumberValue, positiveNumberValue, stringValue } from '../args.js';
import { closedLoop, type Job, openLoop } from '../bench/load.js';
import { Tally } from '../bench/tally.js';
import type { Command } from '../command.js';
import { connectRpc } from '../connect.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { toJson } from '../json.js';
import type { Output } from '../output.js';
import { readJsonArgument } from '../params.js';
import { CONNECTION_OPTIONS, resolveTarget } from '../target.js';
import { DEFAULT_TIMEOUT_MS } from './call.js';

const DEFAULTS = { connections: 4, concurrency: 8, durationS: 10, warmupS: 1 } as const;

const spec: CommandSpec = {
  name: 'bench',
  usage: 'ADDR METHOD [JSON]',
  summary: 'load a method for a while and print throughput and latency percentiles',
  positionals: [2, 3],
  options: {
    connections: { type: 'string', arg: 'N', description: `open N connections (default ${DEFAULTS.connections})` },
    concurrency: { type: 'string', arg: 'N', description: `keep N requests in flight per connection (default ${DEFAULTS.concurrency})` },
    duration: { type: 'string', arg: 'S', description: `run for S seconds (default ${DEFAULTS.durationS}; decimals allowed)` },
    warmup: { type: 'string', arg: 'S', description: `first run the same load for S seconds, not counted (default ${DEFAULTS.warmupS}; 0: none)` },
    rate: { type: 'string', arg: 'R', description: 'open loop: send R requests per second in all, answered or not' },
    timeout: { type: 'string', arg: 'MS', description: `fail a request after MS (default ${DEFAULT_TIMEOUT_MS}; 0: no limit)` },
    ...CONNECTION_OPTIONS,
  },
  details: [
    'Closed loop by default: each connection keeps --concurrency requests in flight. With --rate the',
    'load is open loop: requests leave at a fixed rate whatever the server does, and each latency',
    'counts from when its request was due, so a stall is not hidden (no coordinated omission).',
    'The measured run follows an untimed warm-up with the same load (--warmup), so it measures the',
    'steady state (JIT-compiled code on both sides), not start-up.',
    'Percentiles come from an HdrHistogram (1 µs resolution). A progress line shows on a terminal.',
    'Exits 0 when every request succeeded, else with the first failure (after the summary).',
    '',
    'Examples:',
    `  proto bench 127.0.0.1:7400 math::add '{"a":1,"b":2}' --connections 2 --concurrency 32 --duration 5`,
    `  proto bench 127.0.0.1:7400 echo '"x"' --rate 5000 --duration 10 --json`,
  ].join('\n'),
};

const ms = (value: number): string => `${value.toFixed(3)} ms`;
const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

function showProgress(out: Output, tally: Tally, start: number, durationMs: number): NodeJS.Timeout | undefined {
  if (!out.showsProgress) return undefined;
  const timer = setInterval(() => {
    const elapsed = performance.now() - start;
    const rate = tally.ok / (elapsed / 1000);
    const seconds = Math.min(elapsed, durationMs) / 1000;
    out.progress(`  ${seconds.toFixed(1)}/${(durationMs / 1000).toFixed(1)} s  ${tally.ok} ok  ${tally.failed} errors  ${rate.toFixed(0)} req/s  p99 ${ms(tally.latency.percentile(99))}`);
  }, 250);
  timer.unref();
  return timer;
}

async function openClients(count: number, connect: () => Promise<RpcClient>): Promise<RpcClient[]> {
  const clients: RpcClient[] = [];
  try {
    for (let i = 0; i < count; i++) clients.push(await connect());
  } catch (error) {
    for (const client of clients) client.destroy();
    throw error;
  }
  return clients;
}

/** `proto bench ADDR METHOD [JSON] [--connections N --concurrency N --duration S | --rate R]`. */
export const bench: Command = {
  spec,
  async run(parsed, { io, out, stdin }) {
    const [address, method, paramsText] = parsed.positionals as [string, string, string | undefined];
    const connections = intValue(parsed, 'connections', DEFAULTS.connections, 1, 10_000);
    const rate = stringValue(parsed, 'rate') === undefined ? undefined : positiveNumberValue(parsed, 'rate', 1);
    if (rate !== undefined && stringValue(parsed, 'concurrency') !== undefined) {
      throw new UsageError('--rate sets the load by itself (open loop): leave out --concurrency');
    }
    const concurrency = intValue(parsed, 'concurrency', DEFAULTS.concurrency, 1, 100_000);
    const durationMs = positiveNumberValue(parsed, 'duration', DEFAULTS.durationS) * 1000;
    const warmupMs = nonNegativeNumberValue(parsed, 'warmup', DEFAULTS.warmupS) * 1000;
    const timeoutMs = intValue(parsed, 'timeout', DEFAULT_TIMEOUT_MS);
    const target = await resolveTarget(parsed, address, io.env, stdin);
    const params = await readJsonArgument(paramsText, stdin);
    const clients = await openClients(connections, () => connectRpc(target));
    const where = formatAddress(target.address);
    const shape = rate === undefined ? `${plural(connections, 'connection')} × ${concurrency} in flight` : `${plural(connections, 'connection')}, ${rate} req/s (open loop)`;
    const warmupText = warmupMs > 0 ? ` after a ${warmupMs / 1000} s warm-up` : '';
    if (!out.json) out.line(`bench ${method} on ${where}: ${shape}, ${durationMs / 1000} s${warmupText}`);
    const tally = new Tally();
    const job: Job = { clients, method, params, timeoutMs, durationMs, signal: io.signal, tally };
    const load = (run: Job): Promise<number> => (rate === undefined ? closedLoop(run, concurrency) : openLoop(run, rate));
    let progress: NodeJS.Timeout | undefined;
    let elapsedMs: number;
    try {
      if (warmupMs > 0) {
        // The same load, untimed and not counted: the measured run then starts in the steady state.
        if (out.showsProgress) out.progress('  warming up');
        await load({ ...job, durationMs: warmupMs, tally: new Tally() });
      }
      progress = showProgress(out, tally, performance.now(), durationMs);
      elapsedMs = await load(job);
    } finally {
      clearInterval(progress);
      out.clearProgress();
      for (const client of clients) client.destroy();
    }
    const latency = tally.latency.summary();
    const throughput = tally.ok / (elapsedMs / 1000);
    if (out.json) {
      out.line(
        toJson({
          method,
          address: where,
          mode: rate === undefined ? 'closed' : 'open',
          connections,
          concurrency: rate === undefined ? concurrency : null,
          rate: rate ?? null,
          durationS: durationMs / 1000,
          warmupS: warmupMs / 1000,
          elapsedS: elapsedMs / 1000,
          requests: tally.ok,
          errors: tally.failed,
          errorCodes: Object.fromEntries(tally.errors),
          throughput,
          latencyMs: latency,
        }),
      );
    } else {
      out.line(`  requests  ${tally.ok} ok, ${tally.failed} failed in ${(elapsedMs / 1000).toFixed(2)} s: ${out.paint('bold', `${throughput.toFixed(1)} req/s`)}`);
      out.line(`  latency   p50 ${ms(latency.p50)}  p90 ${ms(latency.p90)}  p99 ${out.paint('bold', ms(latency.p99))}  max ${ms(latency.max)}  mean ${ms(latency.mean)}`);
      if (tally.failed > 0) out.line(`  errors    ${[...tally.errors].map(([code, count]) => `${code} × ${count}`).join(', ')}`);
    }
    if (tally.firstError !== undefined) throw tally.firstError;
    return ExitCode.OK;
  },
};
