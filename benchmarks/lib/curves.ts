// Curves from cases: a suite that measures the same contenders at several x values (connections,
// payload sizes, ...) makes one case per x, then one chart per metric from them.
import type { ChartSpec } from './svg-chart.js';
import { metricOf } from './targets.js';
import type { CaseResult, MetricKey } from './types.js';

/** One point of the x axis and the case measured there. */
export interface CurvePoint {
  x: number;
  case: CaseResult;
}

/**
 * A chart of `metric` over the points, one series per contender (in the order of the first case's
 * rows). Contenders that failed or are unavailable at a point have no value there.
 */
export function curveChart(
  chart: Omit<ChartSpec, 'series'>,
  points: readonly CurvePoint[],
  metric: MetricKey,
): ChartSpec {
  const names = [...new Set(points.flatMap((p) => p.case.rows.map((r) => r.contender)))];
  return {
    ...chart,
    series: names.map((name) => ({
      name,
      points: points.flatMap((p) => {
        const value = metricOf(p.case.rows.find((r) => r.contender === name), metric);
        return value === undefined ? [] : [[p.x, value] as const];
      }),
    })),
  };
}
