import type { CaseResult, Measurement, MetricKey, TargetResult, TargetSpec } from './types.js';

/** Lower is better for these; "best of" then means the smallest. */
const LOWER_IS_BETTER: ReadonlySet<MetricKey> = new Set<MetricKey>(['p50Ms', 'p90Ms', 'p99Ms', 'maxMs', 'heapPerConn', 'externalPerConn', 'rssPerConn', 'cpuUsPerOp', 'serverCpuUsPerOp', 'clientCpuUsPerOp', 'serverSysUsPerOp', 'serverWritesPerOp', 'serverAllocPerOp', 'clientAllocPerOp', 'gcUsPerOp', 'gcMaxMs']);

export function metricOf(row: Measurement | undefined, metric: MetricKey): number | undefined {
  if (row === undefined || row.status !== 'ok') return undefined;
  const value = row[metric];
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

export function findRow(c: CaseResult, contender: string): Measurement | undefined {
  return c.rows.find((r) => r.contender === contender);
}

/** Ratio of a row to the case's reference on the case's ratio metric. */
export function ratioToReference(c: CaseResult, row: Measurement): number | undefined {
  const value = metricOf(row, c.ratioMetric);
  const ref = metricOf(findRow(c, c.reference), c.ratioMetric);
  return value === undefined || ref === undefined || ref === 0 ? undefined : value / ref;
}

function bestOf(c: CaseResult, names: readonly string[], metric: MetricKey): Measurement | undefined {
  let best: Measurement | undefined;
  let bestValue: number | undefined;
  const lower = LOWER_IS_BETTER.has(metric);
  for (const name of names) {
    const row = findRow(c, name);
    const value = metricOf(row, metric);
    if (value === undefined) continue;
    if (bestValue === undefined || (lower ? value < bestValue : value > bestValue)) {
      best = row;
      bestValue = value;
    }
  }
  return best;
}

export function evaluateTarget(cases: readonly CaseResult[], spec: TargetSpec): TargetResult {
  const c = cases.find((x) => x.id === spec.caseId);
  if (c === undefined) return { spec, measured: undefined, againstName: undefined, pass: undefined, cpuRatio: undefined };
  const row = findRow(c, spec.contender);
  const value = metricOf(row, spec.metric);
  let measured: number | undefined;
  let againstName: string | undefined;
  let cpuRatio: number | undefined;
  if (spec.against === undefined) {
    measured = value;
  } else {
    const against = typeof spec.against === 'string' ? findRow(c, spec.against) : bestOf(c, spec.against, spec.metric);
    againstName = against?.contender;
    const base = metricOf(against, spec.metric);
    measured = value === undefined || base === undefined || base === 0 ? undefined : value / base;
    const cpu = metricOf(row, 'cpuUsPerOp');
    const cpuBase = metricOf(against, 'cpuUsPerOp');
    if (spec.metric === 'opsPerSec' && cpu !== undefined && cpuBase !== undefined && cpu > 0) cpuRatio = cpuBase / cpu;
  }
  const pass = measured === undefined ? undefined : spec.op === '>=' ? measured >= spec.value : measured <= spec.value;
  return { spec, measured, againstName, pass, cpuRatio };
}
