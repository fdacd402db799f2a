import { binaryParams, oneWayRows } from '../lib/oneway.js';
import { MiB } from '../lib/stats.js';
import type { RunSettings, Suite, SuiteResult } from '../lib/types.js';

const RAW = new URL('../tcp/raw.ts', import.meta.url).href;
const PEERS = new URL('./peers.ts', import.meta.url).href;
const PROTO = new URL('./proto.ts', import.meta.url).href;

const NS = '@proto/ns';
const REFERENCE = 'raw net.Socket (bytes only)';

export const nsBinarySuite: Suite = {
  id: 'ns-binary',
  title: 'ns binary: 1 MiB Buffer payloads under one event',
  async run(settings: RunSettings): Promise<SuiteResult> {
    const params = binaryParams(settings.quick);
    const contenders = [
      { name: NS, module: PROTO, server: 'nsServer', client: 'nsBinaryClient' },
      { name: REFERENCE, module: RAW, server: 'bytesServer', client: 'bytesClient', countsBytes: true },
      { name: 'nossock (binary body)', module: PEERS, server: 'nossockBinaryServer', client: 'nossockBinaryClient' },
    ];
    const rows = await oneWayRows(this.id, settings.rounds, contenders, params, MiB);
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
          columns: ['opsPerSec', 'mbPerSec', 'cpuUsPerOp', 'serverCpuUsPerOp', 'clientCpuUsPerOp'],
          rows,
        },
      ],
      targets: [{ caseId: 'ns-binary', label: 'ns binary', contender: NS, metric: 'opsPerSec', against: REFERENCE, op: '>=', value: 0.85 }],
      notes: [
        '@proto/ns sends the Buffer raw (no JSON, no base64); the raw reference streams the same payload bytes with no framing at all.',
        'Where the time goes: on both sides mostly in the kernel (the sender\'s writev of the 17 bytes of frame header and event prefix and the 1 MiB payload as one gather write, never copied in user space; the receiver\'s reads, which for @proto/ns land in each message\'s own 1 MiB buffer, as FramedSocket\'s do in the tcp suite, while raw net reads into 64 KiB buffers). Each message\'s own buffer is fresh memory the kernel maps page by page (page faults/msg in the note: about 256 for 1 MiB when the allocator gave it back in between), which is most of the run-to-run spread; ns\'s own work per message (type byte, cached event name, listener call, a view of the payload) is small next to it: `benchmarks/tcp/instructions.ts --contenders=ns,framed,raw` counts each side\'s user-space instructions per message.',
      ],
    };
  },
};
