import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { retainedPerConnection } from '../lib/heap-breakdown.js';
import { medianOfRounds } from '../lib/contenders.js';
import { curveChart } from '../lib/curves.js';
import { type CpuSample, heapPerConnection, serverWindow } from '../lib/cpu.js';
import { machineState } from '../lib/environment.js';
import { GcWatch } from '../lib/gc.js';
import { roundRobin } from '../lib/requests.js';
import { tailFinding } from '../rpc/findings.js';
import { LatencyRecorder } from '../lib/latency.js';
import { parseCpuList, placement } from '../lib/pinning.js';
import { renderLineChart, tickLabel } from '../lib/svg-chart.js';
import type { CaseResult, Measurement } from '../lib/types.js';

describe('benchmark infrastructure', () => {
  it('labels the machine state from the load average', () => {
    expect(machineState(0.2, 2)).toBe('quiet (load 0.20 on 2 cores)');
    expect(machineState(1.5, 2)).toMatch(/^busy \(load 1.50 on 2 cores: other work/);
    expect(machineState(13, 2)).toMatch(/^loaded \(load 13.00 on 2 cores/);
  });

  it('parses taskset affinity lists', () => {
    expect(parseCpuList("pid 12's current affinity list: 0,1")).toEqual([0, 1]);
    expect(parseCpuList("pid 12's current affinity list: 0-3,6")).toEqual([0, 1, 2, 3, 6]);
    expect(parseCpuList("pid 12's current affinity list: 1")).toEqual([1]);
  });

  it('places server and client on different cores when pinned, nowhere when not', () => {
    const unpinned = placement(false);
    expect([unpinned.pinned, unpinned.cpuFor(0), unpinned.cpuFor(1)]).toEqual([false, undefined, undefined]);
    const pinned = placement(true);
    if (pinned.pinned) expect(pinned.cpuFor(0)).not.toBe(pinned.cpuFor(1));
    else expect(pinned.description).toContain('unpinned');
  });

  it('reports p50/p90/p99/max from the histogram within its 3 significant digits', () => {
    const recorder = new LatencyRecorder();
    for (let i = 1; i <= 1000; i++) recorder.record(i / 100); // 0.01 .. 10 ms
    const summary = recorder.summary();
    expect(recorder.count).toBe(1000);
    expect(summary.p50Ms).toBeCloseTo(5, 1);
    expect(summary.p90Ms).toBeCloseTo(9, 1);
    expect(summary.p99Ms).toBeCloseTo(9.9, 1);
    expect(summary.maxMs).toBeCloseTo(10, 1);
    recorder.destroy();
  });

  it('keeps the median run of each contender and notes the spread; a failed run wins', async () => {
    const rates: Record<string, number[]> = { a: [3, 1, 2], b: [5, 5, 5] };
    const calls: Record<string, number> = { a: 0, b: 0 };
    const kept = await medianOfRounds(3, ['a', 'b', 'c'], async (name): Promise<Measurement[]> => {
      if (name === 'c') return [{ contender: 'c', status: calls.c === undefined ? ((calls.c = 1), 'ok') : 'failed', opsPerSec: 1 }];
      const rate = rates[name]![calls[name]!++]!;
      return [{ contender: name, status: 'ok', opsPerSec: rate }];
    });
    expect(kept[0]![0]!.opsPerSec).toBe(2);
    expect(kept[0]![0]!.note).toBe('median of 3 (1.0..3.0)');
    expect(kept[1]![0]!.opsPerSec).toBe(5);
    expect(kept[2]![0]!.status).toBe('failed');
  });

  it('draws a curve per contender as standalone SVG, skipping missing points', () => {
    const at = (x: number, rows: Measurement[]): { x: number; case: CaseResult } => ({
      x,
      case: { id: `c${x}`, title: '', unit: 'req', reference: 'raw', ratioMetric: 'opsPerSec', columns: ['opsPerSec'], rows },
    });
    const chart = curveChart(
      { id: 'rpc-connections', title: 'rpc <req/s>', xLabel: 'clients', yLabel: 'req/s', logX: true },
      [
        at(1, [{ contender: 'raw', status: 'ok', opsPerSec: 1000 }, { contender: 'proto', status: 'ok', opsPerSec: 900 }]),
        at(100, [{ contender: 'raw', status: 'ok', opsPerSec: 5000 }, { contender: 'proto', status: 'failed' }]),
      ],
      'opsPerSec',
    );
    expect(chart.series.map((s) => [s.name, s.points.length])).toEqual([['raw', 2], ['proto', 1]]);
    const svg = renderLineChart(chart);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('rpc &lt;req/s&gt;');
    expect(svg.match(/<polyline/g)?.length).toBe(1); // proto has one point: a dot, no line
    expect(svg.match(/<circle/g)?.length).toBe(3);
    expect(renderLineChart({ ...chart, series: [] })).toContain('no data');
    // A log y axis has a tick per decade from below the smallest value to above the largest.
    const logSvg = renderLineChart({ ...chart, logY: true });
    expect(logSvg.match(/text-anchor="end" dominant-baseline="middle">[^<]*</g)?.map((t) => t.slice(t.indexOf('>') + 1, -1))).toEqual(['100', '1k', '10k']);
    expect([tickLabel(1500), tickLabel(2_000_000), tickLabel(0.5)]).toEqual(['1.5k', '2M', '0.5']);
  });

  it('spreads requests over connections in turn', async () => {
    const seen: string[] = [];
    const call = roundRobin(['a', 'b', 'c'], async (conn, x, y) => (seen.push(conn), x + y));
    for (let i = 0; i < 5; i++) expect(await call(i, 1)).toBe(i + 1);
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b']);
  });

  it("reads the server's CPU, kernel share, GC and allocation per op inside a window, and heap per connection", () => {
    const sample = (t: number, ops: number, extra: Partial<CpuSample> = {}): CpuSample => ({
      t, cpuUs: ops * 10, sysUs: ops * 4, ops, gcMs: ops / 1000, gcCount: 0, allocated: ops * 500, gcMaxMs: t === 200 ? 3 : 0.5, ...extra,
    });
    const samples = [sample(0, 0, { heap: 1_000_000 }), sample(100, 100), sample(200, 300), sample(300, 600, { heap: 1_500_000 })];
    const w = serverWindow(samples, 50, 250)!;
    expect([w.cpuUsPerOp, w.sysUsPerOp, w.allocPerOp, w.gcMaxMs]).toEqual([10, 4, 500, 3]);
    expect(w.gcUsPerOp).toBeCloseTo(1, 9);
    expect(serverWindow(samples, 120, 180)).toBeUndefined();
    expect(heapPerConnection(samples, 1000)).toBe(500);
  });

  it('counts the bytes a process allocates between start() and stop()', () => {
    const watch = new GcWatch();
    watch.start();
    let keep: unknown[] = [];
    for (let i = 0; i < 200_000; i++) keep.push({ i });
    keep = [];
    const stats = watch.stop();
    expect(keep.length).toBe(0);
    // 200,000 small objects (16+ bytes each) plus the array's growth: several MB, whatever GC did meanwhile.
    expect(stats.allocatedBytes).toBeGreaterThan(3_000_000);
  });

  it('explains the tail from the GC share of the same window', () => {
    const row = (contender: string, p99Ms: number, gcUsPerOp: number): Measurement => ({
      contender, status: 'ok', opsPerSec: 100_000, p50Ms: 0.2, p99Ms, gcUsPerOp, gcMaxMs: 1, serverAllocPerOp: 600, clientAllocPerOp: 900,
    });
    const raw = row('raw', 0.4, 0.05);
    expect(tailFinding(row('rpc', 0.8, 0.2), raw)).toMatch(/2\.00x.*2\.0% of the time.*More than 1%/);
    expect(tailFinding(row('rpc', 0.8, 0.05), raw)).toMatch(/0\.5% of the time.*Less than 1%/);
    expect(tailFinding(undefined, raw)).toBeUndefined();
    expect(tailFinding(row('rpc', 0.8, 0.2), raw, row('rpc, big young', 0.5, 0.05))).toMatch(/1\.25x raw.*the tail shrinks/);
    expect(tailFinding(row('rpc', 0.5, 0.2), raw, row('rpc, big young', 0.48, 0.05))).toMatch(/within 1\.3x.*hardly moves/);
  });

  it("sums what root-held objects retain per constructor from a heap snapshot, largest first", () => {
    const file = join(tmpdir(), `bench-lib-test-${process.pid}.heapsnapshot`);
    writeHeapSnapshot(file);
    try {
      const shares = retainedPerConnection(file, 1, 5);
      expect(shares.length).toBeGreaterThan(0);
      expect(shares.every((x) => x.bytesPerConnection > 0 && x.perConnection >= 1)).toBe(true);
      expect(shares.map((x) => x.bytesPerConnection)).toEqual([...shares.map((x) => x.bytesPerConnection)].sort((a, b) => b - a));
    } finally {
      rmSync(file, { force: true });
    }
  });
});
