import { performance } from 'node:perf_hooks';

/**
 * What a {@link DeadlineQueue} holds. The links live on the entry itself, so queuing allocates
 * nothing.
 */
export interface Deadlined {
  /** When it is due, on the queue's clock. */
  dueAt: number;
  /** The list it is in; undefined when it is in none. */
  dueList: DueList | undefined;
  prevDue: Deadlined | undefined;
  nextDue: Deadlined | undefined;
}

/** Entries that share one timeout, in insertion order, which is also deadline order. */
export interface DueList {
  timeoutMs: number;
  head: Deadlined | undefined;
  tail: Deadlined | undefined;
}

/** Timeouts that get a list of their own; rarer ones fall back to a timer per entry. */
const MAX_LISTS = 8;

/** Longest delay Node's timers take (a longer one fires after 1 ms). */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Gap between the wall clock and what the timer proves has elapsed beyond which we take it for a
 * clock change (NTP step, suspend, `vi.setSystemTime`) rather than a late timer.
 */
const CLOCK_JUMP_MS = 1000;

function onDeadlineTimer(queue: { fire(): void }): void {
  queue.fire();
}

/**
 * Deadlines of many entries behind one timer. Entries with the same timeout fall due in the order
 * they were added, so each timeout value keeps a FIFO list and only the earliest head needs a
 * timer. An entry leaving (answered) costs an unlink; the timer is not moved: when it fires it
 * settles whatever is due and re-arms for the next deadline, and it is cleared as soon as the
 * queue is empty.
 *
 * The clock is `Date.now()` (which fake timers control, so tests and users' tests can advance it),
 * corrected when it jumps: the timer itself proves how much time passed, together with the
 * monotonic `performance.now()`.
 */
export class DeadlineQueue<T extends Deadlined> {
  readonly #onDue: (entry: T) => void;
  readonly #lists: DueList[] = [];
  #size = 0;
  /**
   * Added to `Date.now()` to get the queue's clock: minus the time the queue was made (so
   * deadlines stay small integers, which V8 stores in an entry without boxing), plus the
   * corrections of clock jumps.
   */
  #skew = -Date.now();
  #timer: NodeJS.Timeout | undefined = undefined;
  /** Deadline, clock reading, monotonic reading and delay when the timer was armed. */
  #armedFor = 0;
  #armedClock = 0;
  #armedMonotonic = 0;
  #armedDelay = 0;

  /** `onDue` is called for each entry that falls due, after it left the queue. */
  constructor(onDue: (entry: T) => void) {
    this.#onDue = onDue;
  }

  /** Entries queued. */
  get size(): number {
    return this.#size;
  }

  /** Whether the timer is armed (for tests: it must not outlive the last entry). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Queue `entry` to fall due `timeoutMs` from now.
   * @returns false when too many distinct timeouts are queued already: the caller times it itself.
   */
  add(entry: T, timeoutMs: number): boolean {
    const list = this.#listFor(timeoutMs);
    if (list === undefined) return false;
    const dueAt = this.#clock() + timeoutMs;
    entry.dueAt = dueAt;
    entry.dueList = list;
    const tail = list.tail;
    entry.prevDue = tail;
    entry.nextDue = undefined;
    if (tail === undefined) list.head = entry;
    else tail.nextDue = entry;
    list.tail = entry;
    this.#size++;
    if (this.#timer === undefined) this.#arm(dueAt);
    else if (dueAt < this.#armedFor) {
      // Only an entry with a shorter timeout than the armed one can be due earlier.
      clearTimeout(this.#timer);
      this.#arm(dueAt);
    }
    return true;
  }

  /** Take `entry` out (it settled). Does nothing if it is not queued. */
  remove(entry: T): void {
    const list = entry.dueList;
    if (list === undefined) return;
    const prev = entry.prevDue;
    const next = entry.nextDue;
    if (prev === undefined) list.head = next;
    else prev.nextDue = next;
    if (next === undefined) list.tail = prev;
    else next.prevDue = prev;
    entry.dueList = undefined;
    entry.prevDue = undefined;
    entry.nextDue = undefined;
    if (--this.#size === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** @internal timer callback: settle everything due, then re-arm for the next deadline. */
  fire(): void {
    this.#timer = undefined;
    let now = this.#clock();
    // At least the armed delay has passed: the timer says so, and so does the monotonic clock.
    const expected = this.#armedClock + Math.max(performance.now() - this.#armedMonotonic, this.#armedDelay);
    if (now - expected > CLOCK_JUMP_MS || expected - now > CLOCK_JUMP_MS) {
      this.#skew += expected - now;
      now = expected;
    }
    // The entry the timer was armed for is due however early the timer fired.
    const dueBy = now > this.#armedFor ? now : this.#armedFor;
    const lists = this.#lists;
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i]!;
      let entry = list.head;
      while (entry !== undefined && entry.dueAt <= dueBy) {
        this.remove(entry as T);
        this.#onDue(entry as T);
        entry = list.head;
      }
    }
    if (this.#size === 0) return;
    // onDue may have queued entries (a diagnostics subscriber sending a request): keep the timer
    // on the earliest deadline.
    const earliest = this.#earliest();
    if (this.#timer === undefined) this.#arm(earliest);
    else if (earliest < this.#armedFor) {
      clearTimeout(this.#timer);
      this.#arm(earliest);
    }
  }

  #arm(dueAt: number): void {
    const clock = this.#clock();
    let delay = dueAt > clock ? dueAt - clock : 1;
    if (delay > MAX_TIMER_DELAY_MS) {
      // Wake up on the way; the entry is not due then.
      delay = MAX_TIMER_DELAY_MS;
      dueAt = clock + delay;
    }
    this.#armedFor = dueAt;
    this.#armedClock = clock;
    this.#armedMonotonic = performance.now();
    this.#armedDelay = delay;
    this.#timer = setTimeout(onDeadlineTimer, delay, this);
  }

  #clock(): number {
    return Date.now() + this.#skew;
  }

  #earliest(): number {
    let earliest = Infinity;
    const lists = this.#lists;
    for (let i = 0; i < lists.length; i++) {
      const head = lists[i]!.head;
      if (head !== undefined && head.dueAt < earliest) earliest = head.dueAt;
    }
    return earliest;
  }

  #listFor(timeoutMs: number): DueList | undefined {
    const lists = this.#lists;
    let empty: DueList | undefined;
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i]!;
      if (list.timeoutMs === timeoutMs) return list;
      if (empty === undefined && list.head === undefined) empty = list;
    }
    if (lists.length < MAX_LISTS) {
      const list: DueList = { timeoutMs, head: undefined, tail: undefined };
      lists.push(list);
      return list;
    }
    // Recycle a list no entry uses any more.
    if (empty !== undefined) empty.timeoutMs = timeoutMs;
    return empty;
  }
}
