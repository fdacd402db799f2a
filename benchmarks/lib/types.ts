import type { ChartSpec } from './svg-chart.js';

/** One contender's outcome in one case. Fields absent when they don't apply. */
export interface Measurement {
  contender: string;
  status: 'ok' | 'unavailable' | 'failed';
  /** Why a contender is unavailable or failed, or a remark on how it was driven. */
  note?: string;
  /** frames/s, messages/s or requests/s, depending on the case's unit. */
  opsPerSec?: number;
  mbPerSec?: number;
  /** Latency percentiles (lib/latency.ts), milliseconds. */
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  heapPerConn?: number;
  externalPerConn?: number;
  rssPerConn?: number;
  /** CPU time per op, both processes together (sender + receiver, or client + server), microseconds. */
  cpuUsPerOp?: number;
  /** CPU time per op of the server (or receiver) process alone, microseconds. */
  serverCpuUsPerOp?: number;
  /** CPU time per op of the client (or sender) process alone, microseconds. */
  clientCpuUsPerOp?: number;
  /** The kernel's share of serverCpuUsPerOp (syscalls: socket reads and writes), microseconds. */
  serverSysUsPerOp?: number;
  /** Write syscalls of the server per op (Linux /proc/self/io): below 1 when writes carry several answers. */
  serverWritesPerOp?: number;
  /** Bytes allocated on the JS heap per op, by the server (or receiver) and by the client (or sender). */
  serverAllocPerOp?: number;
  clientAllocPerOp?: number;
  /** GC pause time per op, both processes together, microseconds. */
  gcUsPerOp?: number;
  /** Longest single GC pause in the measured window, either process, milliseconds. */
  gcMaxMs?: number;
  /** Units measured (after warm-up). */
  count?: number;
}

export type MetricKey =
  | 'opsPerSec'
  | 'mbPerSec'
  | 'p50Ms'
  | 'p90Ms'
  | 'p99Ms'
  | 'maxMs'
  | 'heapPerConn'
  | 'externalPerConn'
  | 'rssPerConn'
  | 'cpuUsPerOp'
  | 'serverCpuUsPerOp'
  | 'clientCpuUsPerOp'
  | 'serverSysUsPerOp'
  | 'serverWritesPerOp'
  | 'serverAllocPerOp'
  | 'clientAllocPerOp'
  | 'gcUsPerOp'
  | 'gcMaxMs';

/** A table: one scenario, several contenders, one reference the ratio column divides by. */
export interface CaseResult {
  id: string;
  title: string;
  /** What one op is: "frames", "msgs", "req". */
  unit: string;
  reference: string;
  /** The metric the ratio column compares (higher is better for rates, lower for memory/latency). */
  ratioMetric: MetricKey;
  columns: readonly MetricKey[];
  rows: Measurement[];
}

/** A goal from the issues, e.g. "FrameDecoder >= 0.8x minimal". */
export interface TargetSpec {
  caseId: string;
  label: string;
  contender: string;
  metric: MetricKey;
  /** Contender to divide by; a list means "the best of these"; omitted for an absolute limit. */
  against?: string | readonly string[];
  op: '>=' | '<=';
  value: number;
  /** How to print an absolute value (for absolute targets). */
  format?: 'bytes';
}

export interface TargetResult {
  spec: TargetSpec;
  /** Ratio (or absolute value) measured; undefined when a side is missing. */
  measured: number | undefined;
  /** The contender actually compared against (resolves "best of"). */
  againstName: string | undefined;
  pass: boolean | undefined;
  /**
   * For throughput targets, the same ratio computed from CPU time per op (against's / contender's):
   * what the ratio would be if both were CPU-bound, and far less sensitive to other load.
   */
  cpuRatio: number | undefined;
}

export interface SuiteResult {
  id: string;
  title: string;
  cases: CaseResult[];
  targets: TargetSpec[];
  /** Curves to draw (lib/curves.ts), written to `benchmarks/charts/<id>.svg` and linked from RESULTS.md. */
  charts?: ChartSpec[];
  /** Lines printed under the suite (settings used). */
  notes: string[];
}

export interface RunSettings {
  quick: boolean;
  /** Runs per contender, round-robin; the best is kept (see bestOfRounds). */
  rounds: number;
}

export interface Suite {
  id: string;
  title: string;
  run(settings: RunSettings): Promise<SuiteResult>;
}
