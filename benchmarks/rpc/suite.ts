import { bestOfRounds, errorRow, progress } from '../lib/contenders.js';
import { runRequests } from '../lib/requests.js';
import type { CaseResult, Measurement, RunSettings, Suite, SuiteResult } from '../lib/types.js';
import { tailFinding } from './findings.js';
import { cliWarmupS } from './cli.js';
import { CLI, NET_IPC, RAW, RPC } from './names.js';

const BIG_SEMI_SPACE_MB = 64;
const RPC_BIG_YOUNG = `@proto/rpc, ${BIG_SEMI_SPACE_MB} MiB semi-space`;

const here = (file: string) => new URL(file, import.meta.url).href;

const CONCURRENCIES = [1, 100];

export const rpcSuite: Suite = {
  id: 'rpc',
  title: 'rpc: request/response { a, b } -> a + b over one connection',
  async run(settings: RunSettings): Promise<SuiteResult> {
    const params = {
      host: '127.0.0.1',
      concurrencies: CONCURRENCIES,
      warm: settings.quick ? 1000 : 20_000,
      total: settings.quick ? 200_000 : 2_000_000,
      capMs: settings.quick ? 500 : 4000,
    };
    // A new TCP connection per request: bounded so the run doesn't exhaust ephemeral ports.
    const jaysonOwn = { ...params, warm: settings.quick ? 200 : 500, total: settings.quick ? 1000 : 5000 };
    const contenders = [
      { name: RPC, module: here('./proto.ts'), server: 'rpcServer', client: 'rpcClient', params },
      { name: RAW, module: here('./raw.ts'), server: 'rawServer', client: 'rawClient', params },
      { name: NET_IPC, module: here('./peers.ts'), server: 'netIpcServer', client: 'netIpcClient', params },
      { name: 'axon req/rep', module: here('./peers.ts'), server: 'axonServer', client: 'axonClient', params },
      { name: 'grpc-js unary', module: here('./grpc.ts'), server: 'grpcServer', client: 'grpcClient', params },
      { name: 'jayson (pipelined client)', module: here('./jayson.ts'), server: 'jaysonServer', client: 'pipelinedClient', params },
      {
        name: 'jayson (own TCP client)',
        module: here('./jayson.ts'),
        server: 'jaysonServer',
        client: 'jaysonClient',
        params: jaysonOwn,
        note: `new connection per request; at most ${jaysonOwn.total} requests`,
      },
      {
        name: RPC_BIG_YOUNG,
        module: here('./proto.ts'),
        server: 'rpcServer',
        client: 'rpcClient',
        params,
        nodeArgs: [`--max-semi-space-size=${BIG_SEMI_SPACE_MB}`],
        note: `diagnostic: both processes with --max-semi-space-size=${BIG_SEMI_SPACE_MB} (fewer young-generation collections)`,
      },
      {
        name: CLI,
        module: here('./cli.ts'),
        server: 'rpcServer',
        serverModule: here('./proto.ts'),
        client: 'cliBenchClient',
        params,
        note: `the proto CLI, its own loop and histogram, after its own ${cliWarmupS(params)} s warm-up (--warmup)`,
      },
    ];
    // Best round: most req/s at concurrency 100, lowest p50 at concurrency 1 (the targets' metrics).
    const best = await bestOfRounds(
      settings.rounds,
      contenders,
      async (c) => {
        progress(`rpc: ${c.name}`);
        const rows = await runRequests(c.name, c);
        return CONCURRENCIES.map((n) => rows.get(n) ?? errorRow(c.name, new Error(`no result at concurrency ${n}`)));
      },
      (a, b, i) => (CONCURRENCIES[i] === 1 ? (a.p50Ms ?? Infinity) < (b.p50Ms ?? Infinity) : (a.opsPerSec ?? 0) > (b.opsPerSec ?? 0)),
    );
    const byConcurrency = new Map<number, Measurement[]>(CONCURRENCIES.map((n, i) => [n, best.map((rows) => rows[i] as Measurement)]));
    const cases: CaseResult[] = CONCURRENCIES.map((concurrency) => ({
      id: `rpc-c${concurrency}`,
      title: `concurrency ${concurrency} (requests in flight), up to ${params.capMs / 1000} s per contender`,
      unit: 'req',
      reference: RAW,
      ratioMetric: 'opsPerSec',
      columns: ['opsPerSec', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs', 'cpuUsPerOp', 'serverCpuUsPerOp', 'clientCpuUsPerOp'],
      rows: byConcurrency.get(concurrency) ?? [],
    }));
    // The tail at c=100, next to what the collector did in the same measured window (same rows).
    const tail: CaseResult = {
      id: 'rpc-c100-gc',
      title: 'concurrency 100: latency percentiles and garbage collection in the same measured window',
      unit: 'req',
      reference: RAW,
      ratioMetric: 'p99Ms',
      columns: ['p50Ms', 'p90Ms', 'p99Ms', 'maxMs', 'gcUsPerOp', 'gcMaxMs', 'serverAllocPerOp', 'clientAllocPerOp'],
      rows: (byConcurrency.get(100) ?? []).filter((r) => r.contender !== 'jayson (own TCP client)'),
    };
    cases.push(tail);
    const tailRow = (name: string) => tail.rows.find((r) => r.contender === name);
    const finding = tailFinding(tailRow(RPC), tailRow(RAW), tailRow(RPC_BIG_YOUNG));
    return {
      id: this.id,
      title: this.title,
      cases,
      targets: [
        { caseId: 'rpc-c100', label: 'rpc c=100', contender: RPC, metric: 'opsPerSec', against: RAW, op: '>=', value: 1.0 },
        { caseId: 'rpc-c100', label: 'rpc c=100', contender: RPC, metric: 'opsPerSec', against: NET_IPC, op: '>=', value: 2.5 },
        { caseId: 'rpc-c100', label: 'rpc c=100 p99 latency', contender: RPC, metric: 'p99Ms', against: RAW, op: '<=', value: 1.3 },
        { caseId: 'rpc-c1', label: 'rpc c=1 p50 latency', contender: RPC, metric: 'p50Ms', against: RAW, op: '<=', value: 1.2 },
        // The CLI's bench and this suite's client measure the same server the same way: they must agree.
        { caseId: 'rpc-c100', label: 'CLI agrees, c=100', contender: CLI, metric: 'opsPerSec', against: RPC, op: '>=', value: 0.9 },
        { caseId: 'rpc-c100', label: 'CLI agrees, c=100', contender: CLI, metric: 'opsPerSec', against: RPC, op: '<=', value: 1.1 },
        { caseId: 'rpc-c1', label: 'CLI agrees, c=1', contender: CLI, metric: 'opsPerSec', against: RPC, op: '>=', value: 0.9 },
        { caseId: 'rpc-c1', label: 'CLI agrees, c=1', contender: CLI, metric: 'opsPerSec', against: RPC, op: '<=', value: 1.1 },
      ],
      notes: [
        'Client and server in separate processes; each client keeps N requests in flight (closed loop), after a warm-up at the same concurrency.',
        '@proto/rpc authenticates with a password first (not timed). Latency is per request, measured in the client.',
        'GC columns (lib/gc.ts, v8.GCProfiler in both processes over the measured window): pause time per request of both processes, the longest single pause, and the bytes each side allocated on the JS heap per request.',
        `\`proto bench\` (CLI) is the CLI's own command (packages/cli, its bin run as a child of the client worker, so on the client's core) against the @proto/rpc server, one connection, the same concurrency and duration, after its own warm-up at the same load (\`--warmup\`, ${cliWarmupS(params)} s); its CPU counts the measured window (sampled every 50 ms by a preload), its GC is not watched. The "CLI agrees" targets compare it with the @proto/rpc row: they should agree within noise (+-10%).`,
        ...(finding === undefined ? [] : [finding]),
      ],
    };
  },
};
