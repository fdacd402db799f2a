import { oneWayRows } from '../lib/oneway.js';
import type { RunSettings, Suite, SuiteResult } from '../lib/types.js';
import { APPROX_DATA_BYTES } from './message.js';

const RAW = new URL('./raw.ts', import.meta.url).href;
const PEERS = new URL('./peers.ts', import.meta.url).href;
const PROTO = new URL('./proto.ts', import.meta.url).href;

const NS = '@proto/ns';
const COALESCING = 'raw length-prefixed, per-tick batch';
const CONTENDERS = [
  { name: NS, module: PROTO, server: 'nsServer', client: 'nsClient' },
  { name: COALESCING, module: RAW, server: 'framedServer', client: 'coalescingClient' },
  { name: 'raw length-prefixed, write per msg', module: RAW, server: 'framedServer', client: 'framedClient' },
  { name: 'raw NDJSON', module: RAW, server: 'ndjsonServer', client: 'ndjsonClient' },
  { name: 'nssocket', module: PEERS, server: 'nssocketServer', client: 'nssocketClient' },
  { name: 'nossock', module: PEERS, server: 'nossockServer', client: 'nossockClient' },
  { name: 'axon push/pull', module: PEERS, server: 'axonServer', client: 'axonClient' },
];

export const nsOneWaySuite: Suite = {
  id: 'ns-oneway',
  title: "ns one-way: small JSON messages { i, s: 'hello world' } under ['bench','msg']",
  async run(settings: RunSettings): Promise<SuiteResult> {
    const params = {
      host: '127.0.0.1',
      total: settings.quick ? 2_000_000 : 50_000_000,
      warm: settings.quick ? 20_000 : 100_000,
      capMs: settings.quick ? 1000 : 5000,
      payloadBytes: APPROX_DATA_BYTES,
    };
    const rows = await oneWayRows(this.id, settings.rounds, CONTENDERS, params, APPROX_DATA_BYTES);
    return {
      id: this.id,
      title: this.title,
      cases: [
        {
          id: 'ns-oneway',
          title: `small JSON messages, sender and receiver processes, ${params.capMs / 1000} s per contender`,
          unit: 'msgs',
          reference: COALESCING,
          ratioMetric: 'opsPerSec',
          columns: ['opsPerSec', 'cpuUsPerOp'],
          rows,
        },
      ],
      targets: [
        { caseId: 'ns-oneway', label: 'ns one-way', contender: NS, metric: 'opsPerSec', against: COALESCING, op: '>=', value: 0.8 },
        { caseId: 'ns-oneway', label: 'ns one-way', contender: NS, metric: 'opsPerSec', against: 'nssocket', op: '>=', value: 1.8 },
      ],
      notes: [
        'Throughput is what the receiver counts after a warm-up, divided by the time it took. Every sender waits for drain when its socket (or send()) says so.',
        'Raw baselines send JSON ["bench","msg",data] (nssocket\'s own wire shape) and the receiver JSON.parses every message and checks the event.',
        'nossock writes 5 times per message and axon sends two arguments (event string, data), as their users would.',
      ],
    };
  },
};
