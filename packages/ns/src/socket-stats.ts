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
    this.bytesIn += link.framed.stats.bytesIn;
    this.bytesOut += link.framed.stats.bytesOut;
    this.messagesIn += link.messagesIn;
  }

  /** Counters over all links: these totals plus the current link's. */
  static snapshot(totals: SocketTotals | undefined, link: Link | undefined, messagesOut: number): NsSocketStats {
    return {
      bytesIn: (totals?.bytesIn ?? 0) + (link?.framed.stats.bytesIn ?? 0),
      bytesOut: (totals?.bytesOut ?? 0) + (link?.framed.stats.bytesOut ?? 0),
      messagesIn: (totals?.messagesIn ?? 0) + (link?.messagesIn ?? 0),
      messagesOut,
      reconnects: totals?.reconnects ?? 0,
      lastError: totals?.lastError,
    };
  }
}
