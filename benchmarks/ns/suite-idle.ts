import { bestOfRounds, progress } from '../lib/contenders.js';
import { runIdle } from '../lib/idle.js';
import type { Measurement, RunSettings, Suite, SuiteResult } from '../lib/types.js';

const PEERS = new URL('./idle-peers.ts', import.meta.url).href;
const PROTO = new URL('./idle-proto.ts', import.meta.url).href;

const NS = '@proto/ns';
const REFERENCE = 'raw net.Server';

export const nsIdleSuite: Suite = {
  id: 'ns-idle',
  title: 'ns idle memory: server heap per idle connection',
  async run(settings: RunSettings): Promise<SuiteResult> {
    const params = {
      host: '127.0.0.1',
      warm: 50,
      connections: settings.quick ? 500 : 5000,
      batch: 100,
      settleMs: settings.quick ? 200 : 500,
    };
    const contenders = [
      { name: NS, module: PROTO, server: 'nsServer', client: 'nsClient' },
      { name: REFERENCE, module: PEERS, server: 'rawServer', client: 'rawClient' },
      { name: 'nssocket', module: PEERS, server: 'nssocketServer', client: 'nssocketClient' },
    ];
    const rows = (
      await bestOfRounds(
        settings.rounds,
        contenders,
        async (c) => {
          progress(`ns-idle: ${c.name}`);
          return [await runIdle(c.name, { ...c, params })];
        },
        (a, b) => (a.heapPerConn ?? Number.POSITIVE_INFINITY) < (b.heapPerConn ?? Number.POSITIVE_INFINITY),
      )
    ).map(([row]) => row as Measurement);
    return {
      id: this.id,
      title: this.title,
      cases: [
        {
          id: 'ns-idle',
          title: `${params.connections} idle connections to one server process (after ${params.warm} warm-up connections)`,
          unit: 'conns',
          reference: REFERENCE,
          ratioMetric: 'heapPerConn',
          columns: ['heapPerConn', 'externalPerConn', 'rssPerConn'],
          rows,
        },
      ],
      targets: [{ caseId: 'ns-idle', label: 'ns idle', contender: NS, metric: 'heapPerConn', op: '<=', value: 3 * 1024, format: 'bytes' }],
      notes: [
        'heapUsed growth of the server process after global.gc(), divided by the number of connections; external and RSS growth for context (RSS is coarse).',
        'Clients are the same library in a separate process; the server process raises its open-file limit through `ulimit -n` when needed.',
      ],
    };
  },
};
