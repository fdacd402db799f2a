import { framedCounter } from '@proto/framing/internal';
import type { Link } from './link.js';
import type { NsSocketStats } from './socket-events.js';

/** Totals of an NsSocket's closed links and its reconnects: allocated on first use, so an idle accepted socket stays small. */
export class SocketTotals {
  bytesIn = 0;
  bytesOut = 0;
  messagesIn = 0;
  /** Links that opened (clients). */
  linksOpened = 0;
  /** Links that opened after the first: successful reconnects. */
  reconnects = 0;
  lastError: Error | undefined;

  /** A client's link opened (each after the first is a successful reconnect). */
  linkOpened(): void {
    if (this.linksOpened++ > 0) this.reconnects++;
  }

  /** Adds a closed link's counters. */
  add(link: Link): void {
    this.bytesIn += framedCounter(link.framed, 'bytesIn');
    this.bytesOut += framedCounter(link.framed, 'bytesOut');
    this.messagesIn += link.messagesIn;
  }
}

/** Where {@link LiveStats} reads: the socket's core. */
export interface StatsSource {
  readonly totals: SocketTotals | undefined;
  readonly link: Link | undefined;
  /** User events sent so far. */
  readonly messagesOut: number;
}

function bytesIn(this: LiveStats): number {
  const { totals, link } = this.source;
  return (totals?.bytesIn ?? 0) + (link === undefined ? 0 : framedCounter(link.framed, 'bytesIn'));
}
function bytesOut(this: LiveStats): number {
  const { totals, link } = this.source;
  return (totals?.bytesOut ?? 0) + (link === undefined ? 0 : framedCounter(link.framed, 'bytesOut'));
}
function messagesIn(this: LiveStats): number {
  const { totals, link } = this.source;
  return (totals?.messagesIn ?? 0) + (link?.messagesIn ?? 0);
}
function messagesOut(this: LiveStats): number {
  return this.source.messagesOut;
}
function reconnects(this: LiveStats): number {
  return this.source.totals?.reconnects ?? 0;
}
function lastError(this: LiveStats): Error | undefined {
  return this.source.totals?.lastError;
}

/** Own enumerable getters (shared functions, no closure per socket): spread, `Object.keys` and deep equality see the counters. */
const COUNTERS: PropertyDescriptorMap = {
  bytesIn: { get: bytesIn, enumerable: true },
  bytesOut: { get: bytesOut, enumerable: true },
  messagesIn: { get: messagesIn, enumerable: true },
  messagesOut: { get: messagesOut, enumerable: true },
  reconnects: { get: reconnects, enumerable: true },
  lastError: { get: lastError, enumerable: true },
};

/**
 * The live `socket.stats` object: each counter reads the closed links' totals plus the current
 * link's own counters (framing's, updated in place), so a read allocates nothing (rpc's keepalive
 * reads `bytesIn` every tick). One per socket, made on first read; `{ ...socket.stats }` is a copy.
 */
export class LiveStats implements NsSocketStats {
  declare readonly bytesIn: number;
  declare readonly bytesOut: number;
  declare readonly messagesIn: number;
  declare readonly messagesOut: number;
  declare readonly reconnects: number;
  declare readonly lastError: Error | undefined;
  /** @internal */
  declare readonly source: StatsSource;

  constructor(source: StatsSource) {
    Object.defineProperty(this, 'source', { value: source });
    Object.defineProperties(this, COUNTERS);
  }
}
