import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/**
 * A one-time hint to V8 for a receiver of large frames that runs on a single CPU (pinned with
 * `taskset`, or a one-CPU affinity mask).
 *
 * Every large frame handed out is an ArrayBuffer of its own, and V8 counts their bytes as external
 * memory until it has swept the dead ones. It sweeps them on a worker thread, which on one CPU only
 * runs when the JS thread lets go of it; meanwhile the dead frames stay counted, and at GB/s the
 * count passes V8's external-memory limit (64 MiB over the last full collection), which starts a
 * full mark-compact, whose marking threads share the same CPU again. Measured on a pinned
 * 1 MiB-frame receiver: 54-173 full collections in two seconds instead of 2-4, and 400 instead of
 * 150 CPU µs per frame, in about half of the runs. Sweeping on the JS thread costs the same CPU
 * (there is only one) without the lag, so on one CPU the hint turns concurrent ArrayBuffer sweeping
 * off. With more CPUs it does nothing. Set `PROTO_FRAMING_GC_HINT=0` to leave V8 alone.
 */

/** The V8 flag the hint sets. */
export const GC_HINT_FLAG = '--no-concurrent-array-buffer-sweeping';

/** What the hint reads and calls (the process's own, unless a test passes its own). */
export interface GcHintHost {
  readonly cpus: number;
  readonly disabled: boolean;
  setFlags(flags: string): void;
}

const processHost: GcHintHost = {
  get cpus() {
    return availableParallelism();
  },
  get disabled() {
    return process.env['PROTO_FRAMING_GC_HINT'] === '0';
  },
  setFlags: setFlagsFromString,
};

/** Give the hint when it applies; returns whether it was given. */
export function giveGcHint(host: GcHintHost = processHost): boolean {
  if (host.disabled || host.cpus !== 1) return false;
  host.setFlags(GC_HINT_FLAG);
  return true;
}
