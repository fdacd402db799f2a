import { bestOfRounds, errorRow, progress } from '../lib/contenders.js';
import { Worker, withTimeout } from '../lib/fork.js';
import { oneWayRows } from '../lib/oneway.js';
import type { Measurement, RunSettings, Suite, SuiteResult } from '../lib/types.js';
import { APPROX_DATA_BYTES } from './message.js';

const PROTO = new URL('./proto.ts', import.meta.url).href;
const RESUME = new URL('./resume.ts', import.meta.url).href;

const OFF = '@proto/ns';
const ON = '@proto/ns resume';

/** Reconnect-to-first-resumed-message delay, in one worker process. */
async function reconnectDelayRow(quick: boolean): Promise<Measurement> {
  const worker = new Worker();
  try {
    const params = { cuts: quick ? 50 : 500, backlog: 100 };
    const result = await withTimeout(
      worker.call<{ p50Ms: number; p99Ms: number; count: number }>(RESUME, 'nsReconnectDelay', params, 120_000),
      120_000,
      'reconnect delay',
    );
    return { contender: ON, status: 'ok', ...result };
  } catch (error) {
    return errorRow(ON, error);
  } finally {
    await worker.stop();
  }
}

export const nsResumeSuite: Suite = {
  id: 'ns-resume',
  title: "ns resume: one-way small JSON messages with `resume` on against off, and the delay from reconnect to the first resumed message",
  async run(settings: RunSettings): Promise<SuiteResult> {
    const params = {
      host: '127.0.0.1',
      total: settings.quick ? 2_000_000 : 50_000_000,
      warm: settings.quick ? 20_000 : 100_000,
      capMs: settings.quick ? 1000 : 5000,
      payloadBytes: APPROX_DATA_BYTES,
    };
    const contenders = [
      { name: OFF, module: PROTO, server: 'nsServer', client: 'nsClient' },
      { name: ON, module: RESUME, server: 'nsResumeServer', client: 'nsResumeClient' },
    ];
    const rows = await oneWayRows(this.id, settings.rounds, contenders, params, APPROX_DATA_BYTES);
    progress('ns-resume: reconnect delay');
    const [delay] = await bestOfRounds(
      settings.rounds,
      [ON],
      async () => [await reconnectDelayRow(settings.quick)],
      (a, b) => (a.p50Ms ?? Number.POSITIVE_INFINITY) < (b.p50Ms ?? Number.POSITIVE_INFINITY),
    );
    return {
      id: this.id,
      title: this.title,
      cases: [
        {
          id: 'ns-resume-oneway',
          title: `small JSON messages, sender and receiver processes, ${params.capMs / 1000} s per contender`,
          unit: 'msgs',
          reference: OFF,
          ratioMetric: 'opsPerSec',
          columns: ['opsPerSec', 'cpuUsPerOp'],
          rows,
        },
        {
          id: 'ns-resume-delay',
          title: 'from the new TCP connection to the first resumed message at the server (100 messages waiting in the window)',
          unit: 'cuts',
          reference: ON,
          ratioMetric: 'p50Ms',
          columns: ['p50Ms', 'p99Ms'],
          rows: delay ?? [],
        },
      ],
      targets: [{ caseId: 'ns-resume-oneway', label: 'ns one-way, resume on', contender: ON, metric: 'opsPerSec', against: OFF, op: '>=', value: 0.85 }],
      notes: [
        'Both contenders are @proto/ns in the same run; "resume" enables `resume: true` on both ends: every message is kept until acknowledged, ACKs are batched (an eighth of the window or 10 ms).',
        'The delay is measured in one process (server, client and a TCP proxy that is reset per cut): HELLOs, SESSION_OPEN/SESSION_ACCEPT and READY, then the resend.',
      ],
    };
  },
};
