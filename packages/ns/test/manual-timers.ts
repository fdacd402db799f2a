import type { SessionTimers } from '../src/timers.js';

/** A hand-driven clock for session code: nothing fires until `advance`. */
export class ManualTimers implements SessionTimers {
  now = 0;
  readonly #pending = new Map<number, { at: number; callback: () => void }>();
  #next = 1;

  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.#next++;
    this.#pending.set(id, { at: this.now + delayMs, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#pending.delete(handle);
  }

  /** Timers not yet fired or cleared. */
  get count(): number {
    return this.#pending.size;
  }

  /** Moves time forward, firing due timers in order of their due time. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let dueId: number | undefined;
      let dueAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.#pending) {
        if (timer.at <= until && timer.at < dueAt) {
          dueAt = timer.at;
          dueId = id;
        }
      }
      if (dueId === undefined) break;
      const timer = this.#pending.get(dueId)!;
      this.#pending.delete(dueId);
      this.now = timer.at;
      timer.callback();
    }
    this.now = until;
  }
}
