import { backoffDelay, type ResolvedReconnectOptions } from './backoff.js';

/** What {@link Reconnector.schedule} decided. */
export interface ScheduledAttempt {
  /** 1 for the first attempt after a success. */
  readonly attempt: number;
  readonly delayMs: number;
}

/**
 * Counts consecutive failures and owns the one reconnect timer of a client socket. `schedule` is
 * called once per failure; a timer already pending is never doubled.
 */
export class Reconnector<T> {
  options: ResolvedReconnectOptions;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #fire: (target: T) => void;

  constructor(options: ResolvedReconnectOptions, fire: (target: T) => void) {
    this.options = options;
    this.#fire = fire;
  }

  /** Whether a reconnect timer is pending. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Schedules the next attempt for one failure: `fire(target)` runs after the backoff delay.
   * @returns the attempt, or undefined when `maxAttempts` is used up (nothing scheduled).
   */
  schedule(target: T): ScheduledAttempt | undefined {
    if (this.#timer !== undefined) return undefined;
    if (this.#attempt >= this.options.maxAttempts) return undefined;
    const attempt = ++this.#attempt;
    const delayMs = backoffDelay(attempt, this.options);
    this.#timer = setTimeout(onTimer, delayMs, this, target);
    return { attempt, delayMs };
  }

  /** Clears any pending timer. */
  cancel(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** A connection succeeded: the next failure starts from attempt 1 again. */
  reset(): void {
    this.#attempt = 0;
  }

  /** @internal */
  fired(target: T): void {
    this.#timer = undefined;
    this.#fire(target);
  }
}

function onTimer<T>(reconnector: Reconnector<T>, target: T): void {
  reconnector.fired(target);
}
