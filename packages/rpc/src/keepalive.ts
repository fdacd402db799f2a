import { performance } from 'node:perf_hooks';

/** Keepalive settings, the same type on both ends. */
export interface KeepAliveOptions {
  /**
   * How long the link may be silent (nothing received) before a ping goes out. Any received byte
   * counts as life, so a busy link sends no pings at all.
   * @default 10000
   */
  intervalMs?: number;
  /**
   * How long to wait for anything after a ping before the peer is declared dead. A dead peer is
   * detected within `max(intervalMs, timeoutMs) + timeoutMs` of its last byte.
   * @default 5000
   */
  timeoutMs?: number;
}

/** `false` turns keepalive off; `true` (like leaving it out) uses {@link DEFAULT_KEEPALIVE}. */
export type KeepAliveSetting = KeepAliveOptions | boolean;

/** Defaults of {@link KeepAliveOptions}. */
export const DEFAULT_KEEPALIVE = { intervalMs: 10_000, timeoutMs: 5_000 } as const;

/** What a {@link KeepAlive} needs from its link. */
export interface KeepAliveHost {
  /** Bytes received on the link so far (ns stats). */
  keepAliveBytesIn(): number;
  /** Send a PING carrying `seq`. */
  keepAliveSendPing(seq: number): void;
  /** Nothing arrived in time: the peer is dead. */
  keepAliveTimedOut(): void;
}

function onDeadline(keepAlive: KeepAlive): void {
  keepAlive.deadline();
}

/**
 * The one interval timer of every {@link KeepAlive} made with the same options object (one
 * server's links, or one client's): a timer per link cost ~200 bytes per idle peer. It runs while
 * at least one of them is started, and is cleared when the last one stops.
 */
class KeepAliveTicker {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly members = new Set<KeepAlive>();
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(options: Required<KeepAliveOptions>) {
    this.intervalMs = options.intervalMs;
    this.timeoutMs = options.timeoutMs;
  }

  /** Whether the shared timer is armed (tests: it must not outlive the last link). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  add(keepAlive: KeepAlive): void {
    this.members.add(keepAlive);
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(onTick, Math.max(1, Math.floor(this.intervalMs / 2)), this);
    this.#timer.unref();
  }

  delete(keepAlive: KeepAlive): void {
    if (!this.members.delete(keepAlive) || this.members.size !== 0 || this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function onTick(ticker: KeepAliveTicker): void {
  // A member stopped (or started) by another's tick is skipped (or visited) as Set iteration allows.
  for (const keepAlive of ticker.members) keepAlive.tick();
}

const tickers = new WeakMap<Required<KeepAliveOptions>, KeepAliveTicker>();

function tickerFor(options: Required<KeepAliveOptions>): KeepAliveTicker {
  let ticker = tickers.get(options);
  if (ticker === undefined) {
    ticker = new KeepAliveTicker(options);
    tickers.set(options, ticker);
  }
  return ticker;
}

/**
 * Liveness of one link without per-message work (PROTOCOL.md, "Keepalive"): a ping right after
 * authentication, then every `intervalMs / 2` it compares the link's received-bytes counter with
 * the previous look; a whole half-interval without inbound bytes sends a ping (so at most
 * `intervalMs` after the last byte). At most one ping is outstanding: until its pong, or its
 * deadline `timeoutMs` later. At the deadline the peer is dead if nothing at all arrived since the
 * ping; if something did but no pong, the next ping goes out at once. So a dead peer is detected
 * within `max(intervalMs, timeoutMs) + timeoutMs` of its last byte. Pongs give the round-trip time.
 *
 * The half-interval looks are one shared timer for all links made with the same options (see
 * {@link KeepAliveTicker}): a link's first look may come sooner than half an interval after its
 * start, every later one comes half an interval after the previous, so the bounds above hold.
 */
export class KeepAlive {
  readonly #host: KeepAliveHost;
  readonly #ticker: KeepAliveTicker;
  #started = false;
  #deadline: NodeJS.Timeout | undefined;
  #lastBytesIn = -1;
  #bytesAtPing = 0;
  #seq = 0;
  #pingSeq = -1;
  #pingSentAt = 0;
  #rttMs: number | undefined;

  constructor(host: KeepAliveHost, options: Required<KeepAliveOptions>) {
    this.#host = host;
    this.#ticker = tickerFor(options);
  }

  /** Latest measured round-trip time in milliseconds, undefined until the first pong. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** Whether the timer this keepalive shares with its siblings is armed (tests). */
  get tickerArmed(): boolean {
    return this.#ticker.armed;
  }

  /** Start watching; sends one ping at once so the RTT is known early. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lastBytesIn = this.#host.keepAliveBytesIn();
    this.#ticker.add(this);
    this.#ping();
  }

  /** Stop all timers (link closed); the shared one stops with the last link using it. */
  stop(): void {
    if (this.#started) this.#ticker.delete(this);
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#started = false;
    this.#deadline = undefined;
    this.#pingSeq = -1;
  }

  /** A PONG arrived carrying `seq`. */
  pong(seq: number): void {
    if (seq !== this.#pingSeq) return;
    this.#rttMs = performance.now() - this.#pingSentAt;
    this.#pingSeq = -1;
    if (this.#deadline !== undefined) {
      clearTimeout(this.#deadline);
      this.#deadline = undefined;
    }
  }

  /** @internal timer callback (through the shared ticker) */
  tick(): void {
    const bytesIn = this.#host.keepAliveBytesIn();
    if (bytesIn !== this.#lastBytesIn) {
      this.#lastBytesIn = bytesIn;
      return;
    }
    if (this.#deadline === undefined) this.#ping();
  }

  /** @internal timer callback */
  deadline(): void {
    this.#deadline = undefined;
    if (this.#host.keepAliveBytesIn() !== this.#bytesAtPing) {
      // Something arrived, but not the pong: alive, and asked again at once, so a peer that died
      // right after its last byte is found within timeoutMs more (not a tick period later).
      this.#ping();
      return;
    }
    this.stop();
    this.#host.keepAliveTimedOut();
  }

  #ping(): void {
    this.#seq = (this.#seq + 1) >>> 0;
    this.#pingSeq = this.#seq;
    this.#pingSentAt = performance.now();
    this.#bytesAtPing = this.#host.keepAliveBytesIn();
    this.#deadline = setTimeout(onDeadline, this.#ticker.timeoutMs, this);
    this.#deadline.unref();
    this.#host.keepAliveSendPing(this.#seq);
  }
}
