// Curves: the rpc request/response case at 1 to 5,000 connected clients, the same 100 requests in
// flight spread round-robin over them, against the raw baseline and net-ipc at every point.
import { bestOfRounds, errorRow, higherOps, progress } from '../lib/contenders.js';
import { type CurvePoint, curveChart } from '../lib/curves.js';
import { currentFdLimit } from '../lib/fork.js';
import { runRequests } from '../lib/requests.js';
import { formatBytes, formatCount, formatFixed } from '../lib/stats.js';
import { metricOf } from '../lib/targets.js';
import type { CaseResult, RunSettings, Suite, SuiteResult } from '../lib/types.js';
import { NET_IPC, RAW, RPC } from './names.js';

const here = (file: string) => new URL(file, import.meta.url).href;

const IN_FLIGHT = 100;
const FULL_POINTS = [1, 10, 100, 1000, 5000];
const QUICK_POINTS = [1, 100, 1000];

const CONTENDERS = [
  { name: RPC, module: here('./proto.ts'), server: 'rpcServer', client: 'rpcClient' },
  { name: RAW, module: here('./raw.ts'), server: 'rawServer', client: 'rawClient' },
  { name: NET_IPC, module: here('./peers.ts'), server: 'netIpcServer', client: 'netIpcClient' },
];

/** Where a contender's throughput falls most between two neighbouring points, and what changed there. */
function bendNote(name: string, points: readonly CurvePoint[]): string | undefined {
  let worst: { from: CurvePoint; to: CurvePoint; ratio: number } | undefined;
  for (let i = 1; i < points.length; i++) {
    const from = points[i - 1]!;
    const to = points[i]!;
    const a = metricOf(from.case.rows.find((r) => r.contender === name), 'opsPerSec');
    const b = metricOf(to.case.rows.find((r) => r.contender === name), 'opsPerSec');
    if (a === undefined || b === undefined) continue;
    if (worst === undefined || b / a < worst.ratio) worst = { from, to, ratio: b / a };
  }
  if (worst === undefined) return undefined;
  const row = (p: CurvePoint) => p.case.rows.find((r) => r.contender === name);
  const f = row(worst.from);
  const t = row(worst.to);
  const us = (v: number | undefined) => formatFixed(v, 2);
  return (
    `${name}: the largest step is ${worst.from.x.toLocaleString('en-US')} -> ${worst.to.x.toLocaleString('en-US')} clients ` +
    `(${formatCount(f?.opsPerSec)} -> ${formatCount(t?.opsPerSec)} req/s, ${worst.ratio.toFixed(2)}x); ` +
    `server CPU per request ${us(f?.serverCpuUsPerOp)} -> ${us(t?.serverCpuUsPerOp)} µs, of which kernel ` +
    `${us(f?.serverSysUsPerOp)} -> ${us(t?.serverSysUsPerOp)} µs; client ${us(f?.clientCpuUsPerOp)} -> ${us(t?.clientCpuUsPerOp)} µs; ` +
    `p99 ${formatFixed(f?.p99Ms, 3)} -> ${formatFixed(t?.p99Ms, 3)} ms; server heap per connection ${formatBytes(f?.heapPerConn)} -> ${formatBytes(t?.heapPerConn)}.`
  );
}

export const rpcCurvesSuite: Suite = {
  id: 'rpc-curves',
  title: `rpc curves: ${IN_FLIGHT} requests in flight spread over 1 to 5,000 connected clients`,
  async run(settings: RunSettings): Promise<SuiteResult> {
    const xs = settings.quick ? QUICK_POINTS : FULL_POINTS;
    const capMs = settings.quick ? 500 : 3000;
    const points: CurvePoint[] = [];
    for (const clients of xs) {
      const params = {
        host: '127.0.0.1',
        concurrencies: [IN_FLIGHT],
        clients,
        warm: settings.quick ? 2000 : 20_000,
        total: settings.quick ? 200_000 : 2_000_000,
        capMs,
      };
      const best = await bestOfRounds(
        settings.rounds,
        CONTENDERS,
        async (c) => {
          progress(`rpc-curves: ${c.name} at ${clients} clients`);
          const rows = await runRequests(c.name, { ...c, params });
          return [rows.get(IN_FLIGHT) ?? errorRow(c.name, new Error('no result'))];
        },
        higherOps,
      );
      const c: CaseResult = {
        id: `rpc-curve-${clients}`,
        title: `${clients} connected client${clients === 1 ? '' : 's'}, ${IN_FLIGHT} requests in flight in all, up to ${capMs / 1000} s per contender`,
        unit: 'req',
        reference: RAW,
        ratioMetric: 'opsPerSec',
        columns: ['opsPerSec', 'p50Ms', 'p99Ms', 'heapPerConn', 'cpuUsPerOp', 'serverCpuUsPerOp', 'serverSysUsPerOp', 'clientCpuUsPerOp'],
        rows: best.map(([row]) => row!),
      };
      points.push({ x: clients, case: c });
    }
    const chart = (id: string, title: string, yLabel: string, metric: 'opsPerSec' | 'p99Ms' | 'heapPerConn', logY = false) =>
      curveChart({ id, title, xLabel: 'connected clients (log scale)', yLabel, logX: true, logY }, points, metric);
    const bends = CONTENDERS.map((c) => bendNote(c.name, points)).filter((n): n is string => n !== undefined);
    return {
      id: this.id,
      title: this.title,
      cases: points.map((p) => p.case),
      targets: [],
      charts: [
        chart('rpc-curve-throughput', `rpc throughput, ${IN_FLIGHT} in flight over N clients`, 'requests/s', 'opsPerSec'),
        chart('rpc-curve-p99', `rpc p99 latency, ${IN_FLIGHT} in flight over N clients`, 'p99 latency (ms, log scale)', 'p99Ms', true),
        chart('rpc-curve-heap', 'server heap per connected client', 'heap per connection (bytes, log scale)', 'heapPerConn', true),
      ],
      notes: [
        `One server process and one client process per contender and point (pinned to a core each); the client opens N connections (@proto/rpc: each authenticated with a password), then keeps ${IN_FLIGHT} requests in flight in all, each sent on the next connection in turn: at N <= ${IN_FLIGHT} every connection carries ${IN_FLIGHT}/N, above it each carries at most one at a time.`,
        `Server heap per connection: the server's heapUsed after full GCs, with every client still connected after the load, minus the same before the first connection, divided by N. At 1 and 10 clients the figure is mostly the process's own growth (compiled code, caches) divided by few connections.`,
        `"server kernel µs" is the system-CPU share of the server's CPU per request: the cost of socket reads and writes, which stops being shared by several requests once each connection carries one.`,
        `Open files: ${currentFdLimit().toLocaleString('en-US')} allowed per process here (ulimit -n; each side holds one descriptor per connection); the harness raises the soft limit through \`ulimit -n\` when a point needs more.`,
        ...bends.map((b) => `Bend: ${b}`),
      ],
    };
  },
};
