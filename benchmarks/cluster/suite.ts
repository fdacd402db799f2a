import { execFileSync } from 'node:child_process';
import { RedisServer } from '../../testing/redis-server.js';
import { bestOfRounds, errorRow, higherOps, progress, UNAVAILABLE } from '../lib/contenders.js';
import { Worker } from '../lib/fork.js';
import type { RequestOutcome } from '../lib/requests.js';
import type { CaseResult, Measurement, RunSettings, Suite, SuiteResult } from '../lib/types.js';
import type { NodeCommand, NodesParams, PeersParams } from './roles.js';

const ROLES = new URL('./roles.ts', import.meta.url).href;
const CONCURRENCIES = [1, 32];
const PEERS = 1000;
const TIMEOUT_MS = 120_000;

const LOCAL = 'local: server.request on the holding node';
const MEMORY_HOP = 'cross-node, memory cluster (one process)';
const REDIS_HOP = 'cross-node over Redis (node processes)';
const SINGLE = 'one server, no cluster';
const MEMORY_FAN = 'memory cluster, 3 nodes in one process';
const REDIS_FAN = 'Redis cluster, 3 node processes';

type Kind = NodesParams['kind'];

/** The processes of one scenario: node processes (each with some servers) and one peers process. */
class Scenario {
  readonly nodes: Worker[] = [];
  readonly ports: number[][] = [];
  readonly peers = new Worker({ fdLimit: 4096 });
  readonly #done: Promise<unknown>[] = [];

  async start(kind: Kind, layout: number[], url: string | undefined, peerCount: number, peerPorts: (ports: number[][]) => number[]): Promise<void> {
    const prefix = `bench-${process.pid}-${Date.now()}`;
    let first = 1;
    for (const count of layout) {
      const worker = new Worker({ fdLimit: 4096 });
      this.nodes.push(worker);
      const params: NodesParams = { count, kind, prefix, first, ...(url === undefined ? {} : { url }) };
      first += count;
      const done = worker.call(ROLES, 'nodesRole', params, TIMEOUT_MS * 3);
      done.catch(() => {});
      this.#done.push(done);
      this.ports.push(await worker.next<number[]>('ready', TIMEOUT_MS));
    }
    const params: PeersParams = { ports: peerPorts(this.ports), count: peerCount };
    const done = this.peers.call(ROLES, 'peersRole', params, TIMEOUT_MS * 3);
    done.catch(() => {});
    this.#done.push(done);
    await this.peers.next('ready', TIMEOUT_MS);
  }

  command(process: number, command: NodeCommand): void {
    this.nodes[process]!.post('cmd', command);
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) node.post('cmd', { op: 'stop' } satisfies NodeCommand);
    this.peers.post('stop');
    await Promise.allSettled(this.#done);
    await Promise.all([...this.nodes, this.peers].map((w) => w.stop()));
  }
}

interface RequestContender {
  name: string;
  kind: Kind;
  /** Servers per node process. */
  layout: number[];
  /** [process, server] holding the peer, and the one calling it. */
  holder: [number, number];
  caller: [number, number];
}

async function runRequestContender(c: RequestContender, url: string | undefined, settings: RunSettings): Promise<Measurement[]> {
  if (c.kind === 'redis' && url === undefined) return CONCURRENCIES.map(() => errorRow(c.name, new Error(`${UNAVAILABLE}redis-server is not installed`)));
  const scenario = new Scenario();
  try {
    await scenario.start(c.kind, c.layout, url, 1, (ports) => [ports[c.holder[0]]![c.holder[1]]!]);
    scenario.command(c.holder[0], { op: 'peers', node: c.holder[1] });
    const [peerId] = await scenario.nodes[c.holder[0]]!.next<string[]>('peers', TIMEOUT_MS);
    if (peerId === undefined) throw new Error('the peer did not connect');
    // One concurrency at a time, so the holding node's CPU can be charged to each phase.
    const rows: Measurement[] = [];
    const holderIsCaller = c.holder[0] === c.caller[0];
    const holderCpu = async (): Promise<number> => {
      scenario.command(c.holder[0], { op: 'cpu' });
      return scenario.nodes[c.holder[0]]!.next<number>('cpu', TIMEOUT_MS);
    };
    const measure = async (concurrency: number, warm: number, total: number): Promise<RequestOutcome> => {
      const capMs = settings.quick ? 500 : 3000;
      scenario.command(c.caller[0], { op: 'measure', node: c.caller[1], peerId, concurrencies: [concurrency], warm, total, capMs });
      const [o] = await scenario.nodes[c.caller[0]]!.next<RequestOutcome[]>('measured', TIMEOUT_MS);
      if (o === undefined) throw new Error('no outcome');
      return o;
    };
    for (const concurrency of CONCURRENCIES) {
      await measure(concurrency, settings.quick ? 500 : 5000, 0); // warm-up alone
      const before = holderIsCaller ? 0 : await holderCpu();
      const o = await measure(concurrency, 0, settings.quick ? 20_000 : 200_000);
      const holderUs = holderIsCaller ? 0 : (await holderCpu()) - before;
      const callerPerOp = o.cpuUs / o.count;
      const holderPerOp = holderUs / o.count;
      rows.push({
        contender: c.name,
        status: 'ok',
        opsPerSec: o.count / (o.ms / 1000),
        p50Ms: o.p50Ms,
        p99Ms: o.p99Ms,
        count: o.count,
        cpuUsPerOp: callerPerOp + holderPerOp,
        clientCpuUsPerOp: callerPerOp,
        ...(holderIsCaller ? {} : { serverCpuUsPerOp: holderPerOp }),
      });
    }
    return rows;
  } catch (error) {
    return CONCURRENCIES.map(() => errorRow(c.name, error));
  } finally {
    await scenario.stop();
  }
}

interface FanContender {
  name: string;
  kind: Kind;
  layout: number[];
}

async function runFanContender(c: FanContender, url: string | undefined, settings: RunSettings): Promise<Measurement> {
  if (c.kind === 'redis' && url === undefined) return errorRow(c.name, new Error(`${UNAVAILABLE}redis-server is not installed`));
  const scenario = new Scenario();
  const broadcasts = settings.quick ? 20 : 200;
  try {
    await scenario.start(c.kind, c.layout, url, PEERS, (ports) => ports.flat());
    const round = async (count: number): Promise<number> => {
      scenario.peers.post('expect', { total: count * PEERS });
      await scenario.peers.next('armed', TIMEOUT_MS);
      scenario.command(0, { op: 'broadcast', node: 0, count });
      const t0 = await scenario.nodes[0]!.next<number>('sent', TIMEOUT_MS);
      const t1 = await scenario.peers.next<number>('delivered', TIMEOUT_MS);
      return t1 - t0;
    };
    await round(Math.max(5, broadcasts / 4)); // warm-up
    const ms = await round(broadcasts);
    return {
      contender: c.name,
      status: 'ok',
      opsPerSec: (broadcasts * PEERS) / (ms / 1000),
      count: broadcasts * PEERS,
      note: `${broadcasts} broadcasts in ${ms.toFixed(0)} ms (${((broadcasts / ms) * 1000).toFixed(0)} broadcasts/s)`,
    };
  } catch (error) {
    return errorRow(c.name, error);
  } finally {
    await scenario.stop();
  }
}

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const clusterSuite: Suite = {
  id: 'cluster',
  title: 'cluster: a request to a peer on another node, and broadcast to 1,000 peers over 3 nodes',
  async run(settings: RunSettings): Promise<SuiteResult> {
    const redis = hasRedisServer() ? new RedisServer() : undefined;
    await redis?.start();
    const url = redis?.url;
    try {
      const requestContenders: RequestContender[] = [
        { name: LOCAL, kind: 'none', layout: [1], holder: [0, 0], caller: [0, 0] },
        { name: MEMORY_HOP, kind: 'memory', layout: [2], holder: [0, 1], caller: [0, 0] },
        { name: REDIS_HOP, kind: 'redis', layout: [1, 1], holder: [1, 0], caller: [0, 0] },
      ];
      const requestRows = await bestOfRounds(
        settings.rounds,
        requestContenders,
        async (c) => {
          progress(`cluster: ${c.name}`);
          return runRequestContender(c, url, settings);
        },
        (a, b, i) => (CONCURRENCIES[i] === 1 ? (a.p50Ms ?? Infinity) < (b.p50Ms ?? Infinity) : higherOps(a, b)),
      );
      const fanContenders: FanContender[] = [
        { name: SINGLE, kind: 'none', layout: [1] },
        { name: MEMORY_FAN, kind: 'memory', layout: [3] },
        { name: REDIS_FAN, kind: 'redis', layout: [1, 1, 1] },
      ];
      const fanRows = await bestOfRounds(
        settings.rounds,
        fanContenders,
        async (c) => {
          progress(`cluster: broadcast, ${c.name}`);
          return [await runFanContender(c, url, settings)];
        },
        higherOps,
      );
      const cases: CaseResult[] = CONCURRENCIES.map((concurrency, i) => ({
        id: `cluster-request-c${concurrency}`,
        title: `server.request(peerId) { a, b } -> a + b answered by a client, ${concurrency} in flight`,
        unit: 'req',
        reference: LOCAL,
        ratioMetric: 'opsPerSec',
        columns: ['opsPerSec', 'p50Ms', 'p99Ms', 'cpuUsPerOp', 'clientCpuUsPerOp', 'serverCpuUsPerOp'],
        rows: requestRows.map((rows) => rows[i] as Measurement),
      }));
      cases.push({
        id: 'cluster-broadcast',
        title: `broadcast of a small JSON event to ${PEERS} clients spread over the nodes, from node 1`,
        unit: 'deliveries',
        reference: SINGLE,
        ratioMetric: 'opsPerSec',
        columns: ['opsPerSec'],
        rows: fanRows.map(([row]) => row as Measurement),
      });
      return {
        id: this.id,
        title: this.title,
        cases,
        targets: [],
        notes: [
          `Request: the calling server, the server holding the peer and the client run in separate processes, except "memory" (both servers in one process); over Redis each node is its own process and redis-server (${url === undefined ? 'not installed' : 'started by the suite, no persistence'}) a fourth. Latency is measured in the calling server. CPU µs/req: the node processes together (not the client, not redis-server); client/send: the calling node; server/recv: the holding node when it is another process.`,
          `Broadcast: ${PEERS} clients in one process, connected round-robin to the nodes; the time runs from the first broadcast to the last delivery (deliveries/s = broadcasts x ${PEERS} / time). The clients' process decoding every delivery is the likely bottleneck on 2 cores.`,
          'No targets: the issue asks for figures, recorded with the machine state above.',
        ],
      };
    } finally {
      await redis?.stop();
    }
  },
};
