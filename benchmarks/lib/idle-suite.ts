// An idle-memory suite: contenders hold N idle connections to one server process each; one table,
// heap per connection against a raw net.Server, and an absolute target for one contender.
import { type IdleRun, idleRows } from './idle.js';
import type { RunSettings, Suite, SuiteResult } from './types.js';

export interface IdleSuiteSpec {
  id: string;
  title: string;
  /** What a connection is in the table title, e.g. "idle connections to one server process". */
  what: string;
  contenders: readonly (Omit<IdleRun, 'params'> & { name: string })[];
  reference: string;
  target: { label: string; contender: string; maxBytes: number };
  notes: readonly string[];
}

export function idleSuite(spec: IdleSuiteSpec): Suite {
  return {
    id: spec.id,
    title: spec.title,
    async run(settings: RunSettings): Promise<SuiteResult> {
      const params = {
        host: '127.0.0.1',
        warm: 50,
        connections: settings.quick ? 500 : 5000,
        batch: 100,
        settleMs: settings.quick ? 200 : 500,
      };
      const rows = await idleRows(spec.id, settings.rounds, spec.contenders, params);
      const { label, contender, maxBytes } = spec.target;
      return {
        id: spec.id,
        title: spec.title,
        cases: [
          {
            id: spec.id,
            title: `${params.connections} ${spec.what} (after ${params.warm} warm-up connections)`,
            unit: 'conns',
            reference: spec.reference,
            ratioMetric: 'heapPerConn',
            columns: ['heapPerConn', 'externalPerConn', 'rssPerConn'],
            rows,
          },
        ],
        targets: [{ caseId: spec.id, label, contender, metric: 'heapPerConn', op: '<=', value: maxBytes, format: 'bytes' }],
        notes: [
          'heapUsed growth of the server process after global.gc(), divided by the number of connections; external and RSS growth for context (RSS is coarse).',
          'Clients are the same library in a separate process; the server process raises its open-file limit through `ulimit -n` when needed.',
          ...spec.notes,
        ],
      };
    },
  };
}
