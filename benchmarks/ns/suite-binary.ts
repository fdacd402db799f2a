import { bestOfRounds, higherOps, progress } from '../lib/contenders.js';
import { runOneWay } from '../lib/oneway.js';
import { MiB } from '../lib/stats.js';
import type { Measurement, RunSettings, Suite, SuiteResult } from '../lib/types.js';

const RAW = new URL('../tcp/raw.ts', import.meta.url).href;
const PEERS = new URL('./peers.ts', import.meta.url).href;
const PROTO = new URL('./proto.ts', import.meta.url).href;

const NS = '@proto/ns';
const REFERENCE = 'raw net.Socket (bytes only)';

export const nsBinarySuite: Suite = {
  id: 'ns-binary',
  title: 'ns binary: 1 MiB Buffer payloads under one event',
  async run(settings: RunSettings): Promise<SuiteResult> {
    const params = {
      host: '127.0.0.1',
      total: settings.quick ? 1024 : 16_384,
      warm: settings.quick ? 64 : 256,
      capMs: settings.quick ? 1500 : 5000,
      payloadBytes: MiB,
    };
    const contenders = [
      { name: NS, module: PROTO, server: 'nsServer', client: 'nsBinaryClient' },
      { name: REFERENCE, module: RAW, server: 'bytesServer', client: 'bytesClient', countsBytes: true },
      { name: 'nossock (binary body)', module: PEERS, server: 'nossockBinaryServer', client: 'nossockBinaryClient' },
    ];
    const rows = (
      await bestOfRounds(settings.rounds, contenders, async (c) => {
        progress(`ns-binary: ${c.name}`);
        return [await runOneWay(c.name, { ...c, params, bytesPerMessage: MiB })];
      }, higherOps)
    ).map(([row]) => row as Measurement);
    return {
      id: this.id,
      title: this.title,
      cases: [
        {
          id: 'ns-binary',
          title: `1 MiB Buffers, up to ${params.total} messages or ${params.capMs / 1000} s each`,
          unit: 'msgs',
          reference: REFERENCE,
          ratioMetric: 'opsPerSec',
          columns: ['opsPerSec', 'mbPerSec', 'cpuUsPerOp'],
          rows,
        },
      ],
      targets: [{ caseId: 'ns-binary', label: 'ns binary', contender: NS, metric: 'opsPerSec', against: REFERENCE, op: '>=', value: 0.9 }],
      notes: ['@proto/ns sends the Buffer raw (no JSON, no base64); the raw reference streams the same payload bytes with no framing at all.'],
    };
  },
};
