import { formatBytes, formatCount, formatFixed, formatRatio } from './stats.js';
import { ratioToReference } from './targets.js';
import type { CaseResult, MetricKey, TargetResult } from './types.js';

function metricLabel(metric: MetricKey, unit: string): string {
  switch (metric) {
    case 'opsPerSec':
      return `${unit}/s`;
    case 'mbPerSec':
      return 'MB/s';
    case 'p50Ms':
      return 'p50 ms';
    case 'p90Ms':
      return 'p90 ms';
    case 'p99Ms':
      return 'p99 ms';
    case 'maxMs':
      return 'max ms';
    case 'heapPerConn':
      return 'heap/conn';
    case 'externalPerConn':
      return 'external/conn';
    case 'rssPerConn':
      return 'rss/conn';
    case 'cpuUsPerOp':
      return `CPU µs/${unit.replace(/s$/, '')}`;
    case 'serverCpuUsPerOp':
      return 'server/recv µs';
    case 'clientCpuUsPerOp':
      return 'client/send µs';
    case 'serverSysUsPerOp':
      return 'server kernel µs';
    case 'serverWritesPerOp':
      return `server writes/${unit.replace(/s$/, '')}`;
    case 'serverAllocPerOp':
      return `server B/${unit.replace(/s$/, '')}`;
    case 'clientAllocPerOp':
      return `client B/${unit.replace(/s$/, '')}`;
    case 'gcUsPerOp':
      return `GC µs/${unit.replace(/s$/, '')}`;
    case 'gcMaxMs':
      return 'GC max ms';
  }
}

function formatMetric(metric: MetricKey, value: number | undefined): string {
  switch (metric) {
    case 'opsPerSec':
      return formatCount(value);
    case 'mbPerSec':
      return formatFixed(value, 0);
    case 'p50Ms':
    case 'p90Ms':
    case 'p99Ms':
    case 'maxMs':
      return formatFixed(value, 3);
    case 'heapPerConn':
    case 'externalPerConn':
    case 'rssPerConn':
      return formatBytes(value);
    case 'cpuUsPerOp':
    case 'serverCpuUsPerOp':
    case 'clientCpuUsPerOp':
    case 'gcUsPerOp':
    case 'serverSysUsPerOp':
      return formatFixed(value, value !== undefined && value >= 100 ? 0 : 2);
    case 'serverAllocPerOp':
    case 'clientAllocPerOp':
      return formatFixed(value, 0);
    case 'gcMaxMs':
    case 'serverWritesPerOp':
      return formatFixed(value, 2);
  }
}

/** A case as a grid of cells: header row first. */
export function caseGrid(c: CaseResult): string[][] {
  const header = ['contender', ...c.columns.map((m) => metricLabel(m, c.unit)), `vs ${c.reference}`, 'note'];
  const rows = c.rows.map((row) => {
    const ok = row.status === 'ok';
    const cells = c.columns.map((m) => (ok ? formatMetric(m, row[m]) : '-'));
    const ratio = ok ? formatRatio(ratioToReference(c, row)) : '-';
    const note = ok ? (row.note ?? '') : `${row.status === 'unavailable' ? 'NOT AVAILABLE' : 'FAILED'}: ${row.note ?? ''}`;
    return [row.contender, ...cells, ratio, note];
  });
  return [header, ...rows];
}

export function targetGrid(results: readonly TargetResult[]): string[][] {
  const header = ['target', 'measured', 'result', 'by CPU time'];
  const rows = results.map((r) => {
    const { spec } = r;
    const goal = spec.against === undefined
      ? `${spec.contender} ${spec.metric} ${spec.op} ${spec.format === 'bytes' ? formatBytes(spec.value) : spec.value}`
      : `${spec.contender} ${spec.op} ${spec.value}x ${r.againstName ?? (typeof spec.against === 'string' ? spec.against : 'best peer')}`;
    const measured = r.measured === undefined
      ? 'n/a'
      : spec.against === undefined
        ? (spec.format === 'bytes' ? formatBytes(r.measured) : formatFixed(r.measured, 2))
        : formatRatio(r.measured);
    const result = r.pass === undefined ? 'n/a' : r.pass ? 'pass' : 'MISS';
    return [`${spec.label}: ${goal}`, measured, result, r.cpuRatio === undefined ? '' : formatRatio(r.cpuRatio)];
  });
  return [header, ...rows];
}

export function renderText(grid: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of grid) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]) =>
    row.map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const [head, ...body] = grid;
  if (head === undefined) return '';
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...body.map(line)].join('\n');
}

export function renderMarkdown(grid: readonly (readonly string[])[]): string {
  const [head, ...body] = grid;
  if (head === undefined) return '';
  const esc = (cell: string) => cell.replaceAll('|', '\\|');
  const align = head.map((_, i) => (i === 0 || i === head.length - 1 ? '---' : '---:'));
  return [head, align, ...body].map((row) => `| ${row.map(esc).join(' | ')} |`).join('\n');
}
