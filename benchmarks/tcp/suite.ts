import { binaryParams, oneWayRows } from '../lib/oneway.js';
import { currentPlacement } from '../lib/pinning.js';
import { MiB } from '../lib/stats.js';
import type { RunSettings, Suite, SuiteResult } from '../lib/types.js';

const RAW = new URL('./raw.ts', import.meta.url).href;
const PROTO = new URL('./proto.ts', import.meta.url).href;

const REFERENCE = 'raw net.Socket (bytes only)';
const CONCAT = 'raw length-prefixed (concat)';

export const tcpSuite: Suite = {
  id: 'tcp',
  title: 'tcp (framing): 4,096 x 1 MiB binary frames over loopback TCP, sender and receiver in separate processes',
  async run(settings: RunSettings): Promise<SuiteResult> {
    // Issue 9's case: 4,096 x 1 MiB, long enough runs, the median of the rounds (pinned by default).
    const params = { ...binaryParams(settings.quick), total: settings.quick ? 1024 : 4096, warm: settings.quick ? 64 : 256, capMs: settings.quick ? 1500 : 10_000 };
    const contenders = [
      { name: 'FramedSocket', module: PROTO, server: 'framedServer', client: 'framedClient' },
      { name: REFERENCE, module: RAW, server: 'bytesServer', client: 'bytesClient', countsBytes: true },
      { name: CONCAT, module: RAW, server: 'framesServer', client: 'concatClient' },
    ];
    const rows = await oneWayRows(this.id, settings.rounds, contenders, params, MiB, 'median');
    return {
      id: this.id,
      title: this.title,
      cases: [
        {
          id: 'tcp-1MiB',
          title: `1 MiB frames, up to ${params.total} frames or ${params.capMs / 1000} s each`,
          unit: 'frames',
          reference: REFERENCE,
          ratioMetric: 'opsPerSec',
          columns: ['opsPerSec', 'mbPerSec', 'cpuUsPerOp', 'serverCpuUsPerOp', 'clientCpuUsPerOp'],
          rows,
        },
      ],
      targets: [
        { caseId: 'tcp-1MiB', label: 'tcp 1 MiB', contender: 'FramedSocket', metric: 'opsPerSec', against: REFERENCE, op: '>=', value: 0.9 },
        { caseId: 'tcp-1MiB', label: 'tcp 1 MiB', contender: 'FramedSocket', metric: 'opsPerSec', against: CONCAT, op: '>=', value: 1.2 },
      ],
      notes: [
        'Senders wait for drain when a write is refused (FramedSocket: send() === false, then drained()); the receiver counts what arrives after a warm-up.',
        `Each contender runs ${String(settings.rounds)} time(s) round-robin; the median run is shown. Processes: ${currentPlacement().description}.`,
        'The raw reference streams the payload bytes with no header; "raw length-prefixed (concat)" allocates header+payload per frame and decodes with a minimal uint32be decoder.',
      ],
    };
  },
};
