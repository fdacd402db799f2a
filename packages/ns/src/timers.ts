/**
 * The timer functions session code uses, injectable so tests drive time by hand. The default is
 * the global `setTimeout`/`clearTimeout` (so vitest's fake timers apply too).
 */
export interface SessionTimers {
  /** Calls `callback` once after `delayMs`; returns a handle for {@link SessionTimers.clearTimeout}. */
  setTimeout(callback: () => void, delayMs: number): unknown;
  /** Cancels a handle returned by {@link SessionTimers.setTimeout}; ignores undefined. */
  clearTimeout(handle: unknown): void;
}

/** The global timers; timers are unref'd so a pending ack or ttl never keeps a process alive. */
export const SYSTEM_TIMERS: SessionTimers = Object.freeze({
  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return timer;
  },
  clearTimeout(handle: unknown): void {
    if (handle !== undefined) clearTimeout(handle as NodeJS.Timeout);
  },
});
