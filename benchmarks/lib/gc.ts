// Garbage collection inside a measured window: how many pauses, how long, and how many bytes the
// process allocated (heap growth plus what every collection freed), from v8.GCProfiler.
import v8 from 'node:v8';

export interface GcStats {
  /** Collections in the window (scavenges and mark-compacts). */
  count: number;
  /** Sum of their pauses, milliseconds. */
  totalMs: number;
  /** Longest single pause, milliseconds. */
  maxMs: number;
  /** Bytes allocated on the JS heap in the window (approximate: promoted objects count once). */
  allocatedBytes: number;
}

/** Watches GC between start() and stop(). One per window. */
export class GcWatch {
  readonly #profiler = new v8.GCProfiler();
  #used0 = 0;

  start(): void {
    this.#used0 = v8.getHeapStatistics().used_heap_size;
    this.#profiler.start();
  }

  stop(): GcStats {
    const used1 = v8.getHeapStatistics().used_heap_size;
    const result = this.#profiler.stop();
    let totalUs = 0;
    let maxUs = 0;
    let freed = 0;
    for (const gc of result?.statistics ?? []) {
      totalUs += gc.cost;
      if (gc.cost > maxUs) maxUs = gc.cost;
      freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    }
    return { count: result?.statistics.length ?? 0, totalMs: totalUs / 1000, maxMs: maxUs / 1000, allocatedBytes: used1 - this.#used0 + freed };
  }
}
