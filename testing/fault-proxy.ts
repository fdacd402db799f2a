import { EventEmitter, once } from 'node:events';
import * as net from 'node:net';
import { SeededRandom } from './random.js';

/** Which way bytes flow through a link: from the client to the server, or back. */
export type Direction = 'toServer' | 'toClient';

/** A range `[min, max]` (inclusive), or one fixed value. */
export type Range = number | { min: number; max: number };

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** Where to forward connections (loopback). */
  target: { host?: string; port: number };
  /**
   * Seed of every random choice (chunk sizes, delays). Each link draws from its own generator seeded
   * with `seed + link id`, so a run is reproducible connection by connection.
   * @default 1
   */
  seed?: number;
  /**
   * Largest piece forwarded in one write, in bytes (`1` trickles byte by byte). With a range, each
   * piece's size is drawn from it. Chunked and delayed pieces are written one per event-loop turn
   * (the next waits for the previous write's callback), so the receiver sees them separately.
   * @default unlimited (forward what was read)
   */
  chunkBytes?: Range;
  /**
   * Delay before forwarding each piece, in milliseconds, drawn from the range. Order is kept.
   * @default 0
   */
  delayMs?: Range;
  /**
   * Forward a half-close (FIN) from one side to the other. `false` swallows it, leaving the other
   * side believing the connection is alive: a half-open connection.
   * @default true
   */
  forwardEnd?: boolean;
}

/** Counters of everything the proxy did, for RELIABILITY.md. */
export interface FaultStats {
  links: number;
  bytesToServer: number;
  bytesToClient: number;
  /** Writes made (pieces forwarded). */
  pieces: number;
  /** Pieces forwarded after a non-zero delay. */
  delayed: number;
  stalls: number;
  resets: number;
  halfCloses: number;
  /** FINs swallowed because `forwardEnd` is false. */
  swallowedEnds: number;
}

/** Stop reading from a source once this much waits in the proxy. */
const QUEUE_HIGH_BYTES = 64 * 1024;

function draw(random: SeededRandom, range: Range | undefined, fallback: number): number {
  if (range === undefined) return fallback;
  if (typeof range === 'number') return range;
  return random.int(range.min, range.max);
}

/**
 * A TCP proxy on 127.0.0.1 for fault injection in tests: byte-by-byte or random chunking, seeded
 * random delays, stalls (stop forwarding one or both ways), resets (RST) at an exact byte offset,
 * and half-closed or half-open connections. Each accepted connection is a {@link ProxyLink}.
 */
export class FaultProxy extends EventEmitter<{ link: [ProxyLink] }> {
  readonly stats: FaultStats = {
    links: 0,
    bytesToServer: 0,
    bytesToClient: 0,
    pieces: 0,
    delayed: 0,
    stalls: 0,
    resets: 0,
    halfCloses: 0,
    swallowedEnds: 0,
  };
  readonly #server: net.Server;
  readonly #links = new Set<ProxyLink>();
  /** Settings for links accepted from now on; change them between connections. */
  options: FaultProxyOptions;

  private constructor(options: FaultProxyOptions) {
    super();
    this.options = options;
    this.#server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket));
  }

  /** Starts a proxy on an ephemeral loopback port. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    return proxy;
  }

  /** The proxy's port: point clients here. */
  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Links still open. */
  get links(): ReadonlySet<ProxyLink> {
    return this.#links;
  }

  /** Resolves with the next link accepted. */
  async nextLink(): Promise<ProxyLink> {
    const [link] = (await once(this, 'link')) as [ProxyLink];
    return link;
  }

  /** Resets every open link. */
  resetAll(): void {
    for (const link of this.#links) link.reset();
  }

  /** Destroys every link and stops listening. */
  async close(): Promise<void> {
    for (const link of this.#links) link.destroy();
    if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    const id = ++this.stats.links;
    const options = this.options;
    const upstream = net.connect({
      host: options.target.host ?? '127.0.0.1',
      port: options.target.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    const link = new ProxyLink(id, client, upstream, options, this.stats);
    this.#links.add(link);
    void link.closed.then(() => this.#links.delete(link));
    this.emit('link', link);
  }
}

/** One proxied connection: a client socket, an upstream socket, and a pipe each way. */
export class ProxyLink {
  readonly id: number;
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Resolves once both sockets have closed. */
  readonly closed: Promise<void>;
  /** Errors seen on either socket (resets show up here as ECONNRESET). */
  readonly errors: Error[] = [];
  readonly #pipes: Record<Direction, Pipe>;
  readonly #stats: FaultStats;
  #destroyed = false;

  constructor(id: number, client: net.Socket, upstream: net.Socket, options: FaultProxyOptions, stats: FaultStats) {
    this.id = id;
    this.client = client;
    this.upstream = upstream;
    this.#stats = stats;
    const random = new SeededRandom((options.seed ?? 1) + id * 7919);
    this.#pipes = {
      toServer: new Pipe(this, 'toServer', client, upstream, options, random, stats),
      toClient: new Pipe(this, 'toClient', upstream, client, options, random, stats),
    };
    const halfOpen = options.forwardEnd === false;
    const record = (error: Error): void => {
      this.errors.push(error);
      // An abrupt failure of one side is passed on as one, unless half-open connections are wanted.
      if (!halfOpen) this.destroy();
    };
    client.on('error', record);
    upstream.on('error', record);
    // A side that closed without a FIN (destroyed, reset) takes the other with it; after a FIN the
    // pipe forwards the end itself. With forwardEnd false the other side is left open and silent.
    const onClose = (socket: net.Socket): void => {
      if (!halfOpen && !socket.readableEnded) this.destroy();
    };
    client.on('close', () => onClose(client));
    upstream.on('close', () => onClose(upstream));
    // Not events.once: it rejects on 'error' (an upstream ECONNREFUSED, a reset), which would leave
    // an unhandled rejection behind; a link that failed still closes.
    this.closed = Promise.all([closeOf(client), closeOf(upstream)]).then(() => undefined);
  }

  /** Bytes forwarded each way so far. */
  forwarded(direction: Direction): number {
    return this.#pipes[direction].forwarded;
  }

  /** Stops forwarding (one way or both); bytes wait in the proxy and its source is paused once they pile up. */
  stall(direction?: Direction): void {
    for (const pipe of this.#select(direction)) pipe.stall();
  }

  /** Forwards again after {@link ProxyLink.stall}. */
  resume(direction?: Direction): void {
    for (const pipe of this.#select(direction)) pipe.resume();
  }

  /**
   * Forwards exactly `bytes` more bytes in `direction`, then resets both sockets (TCP RST, no FIN): the
   * way to cut a connection in the middle of a frame. A receiver sees `ECONNRESET`, or, when the RST
   * lands while some of those bytes are still unread, the bytes and then end-of-stream (Linux reports
   * a reset that overtakes queued data as EOF): either way the connection dies mid-frame.
   */
  resetAfter(direction: Direction, bytes: number): void {
    this.#pipes[direction].resetAfter(bytes);
  }

  /** Resets both sockets now (TCP RST). */
  reset(): void {
    if (this.#destroyed) return;
    this.#stats.resets++;
    this.#destroyed = true;
    this.client.resetAndDestroy();
    this.upstream.resetAndDestroy();
  }

  /**
   * Half-closes one way: sends a FIN to that direction's receiver and drops any later bytes that way,
   * while the other way keeps flowing.
   */
  halfClose(direction: Direction): void {
    this.#stats.halfCloses++;
    this.#pipes[direction].halfClose();
  }

  /** Closes both sockets without a reset. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.client.destroy();
    this.upstream.destroy();
  }

  #select(direction: Direction | undefined): Pipe[] {
    return direction === undefined ? [this.#pipes.toServer, this.#pipes.toClient] : [this.#pipes[direction]];
  }
}

/** Forwards one direction of a link, piece by piece, with the link's faults applied. */
class Pipe {
  forwarded = 0;
  readonly #link: ProxyLink;
  readonly #direction: Direction;
  readonly #source: net.Socket;
  readonly #sink: net.Socket;
  readonly #options: FaultProxyOptions;
  readonly #random: SeededRandom;
  readonly #stats: FaultStats;
  readonly #paced: boolean;
  #queue: Buffer[] = [];
  #queued = 0;
  #busy = false;
  #stalled = false;
  #sourceEnded = false;
  #closedWay = false;
  #finishing = false;
  #resetAt: number | undefined;

  constructor(
    link: ProxyLink,
    direction: Direction,
    source: net.Socket,
    sink: net.Socket,
    options: FaultProxyOptions,
    random: SeededRandom,
    stats: FaultStats,
  ) {
    this.#link = link;
    this.#direction = direction;
    this.#source = source;
    this.#sink = sink;
    this.#options = options;
    this.#random = random;
    this.#stats = stats;
    this.#paced = options.chunkBytes !== undefined || options.delayMs !== undefined;
    source.on('data', (chunk: Buffer) => this.#onData(chunk));
    source.on('end', () => {
      this.#sourceEnded = true;
      this.#pump();
    });
  }

  stall(): void {
    if (!this.#stalled) this.#stats.stalls++;
    this.#stalled = true;
  }

  resume(): void {
    this.#stalled = false;
    this.#pump();
  }

  resetAfter(bytes: number): void {
    this.#resetAt = this.forwarded + bytes;
    if (bytes === 0) this.#link.reset();
    else this.#pump();
  }

  /** Forwards what already waits, then sends a FIN; bytes arriving from now on are dropped. */
  halfClose(): void {
    if (this.#closedWay || this.#finishing) return;
    this.#finishing = true;
    this.#source.resume();
    this.#pump();
  }

  #onData(chunk: Buffer): void {
    if (this.#closedWay || this.#finishing) return;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued >= QUEUE_HIGH_BYTES) this.#source.pause();
    this.#pump();
  }

  /** Takes the next piece off the queue: at most one chunk size, and never past a pending reset point. */
  #take(): Buffer {
    let size = this.#queue[0]!.length;
    if (this.#options.chunkBytes !== undefined) size = Math.min(size, Math.max(1, draw(this.#random, this.#options.chunkBytes, size)));
    if (this.#resetAt !== undefined) size = Math.min(size, this.#resetAt - this.forwarded);
    const head = this.#queue[0]!;
    let piece: Buffer;
    if (size >= head.length) {
      piece = head;
      this.#queue.shift();
    } else {
      piece = head.subarray(0, size);
      this.#queue[0] = head.subarray(size);
    }
    this.#queued -= piece.length;
    if (this.#queued < QUEUE_HIGH_BYTES / 2) this.#source.resume();
    return piece;
  }

  #pump(): void {
    while (!this.#busy && !this.#stalled && !this.#closedWay && !this.#sink.destroyed) {
      if (this.#queue.length === 0) {
        if (this.#sourceEnded || this.#finishing) this.#endSink();
        return;
      }
      const piece = this.#take();
      const delay = draw(this.#random, this.#options.delayMs, 0);
      if (delay > 0) {
        this.#busy = true;
        this.#stats.delayed++;
        setTimeout(() => this.#write(piece), delay);
        return;
      }
      if (this.#paced) {
        this.#busy = true;
        this.#write(piece);
        return;
      }
      if (!this.#write(piece)) {
        // Unpaced: let the kernel absorb it, and wait for drain only under backpressure.
        this.#busy = true;
        this.#sink.once('drain', () => {
          this.#busy = false;
          this.#pump();
        });
        return;
      }
    }
  }

  /** Writes a piece; paced pieces clear `busy` from the write callback, one per loop turn. */
  #write(piece: Buffer): boolean {
    if (this.#sink.destroyed || this.#closedWay) {
      this.#busy = false;
      return true;
    }
    this.forwarded += piece.length;
    this.#stats.pieces++;
    if (this.#direction === 'toServer') this.#stats.bytesToServer += piece.length;
    else this.#stats.bytesToClient += piece.length;
    if (this.#resetAt !== undefined && this.forwarded >= this.#resetAt) {
      // The cut point: nothing more goes this way; once the kernel has the bytes, reset both sockets.
      this.#resetAt = undefined;
      this.#busy = true;
      this.#sink.write(piece, () => setImmediate(() => this.#link.reset()));
      return true;
    }
    if (this.#paced) {
      this.#sink.write(piece, () => this.#afterPacedWrite());
      return true;
    }
    return this.#sink.write(piece);
  }

  #afterPacedWrite(): void {
    this.#busy = false;
    // Next piece on a later turn so the receiver reads it separately.
    setImmediate(() => this.#pump());
  }

  #endSink(): void {
    if (this.#closedWay) return;
    this.#closedWay = true;
    if (this.#options.forwardEnd === false && !this.#finishing) {
      this.#stats.swallowedEnds++;
      return;
    }
    if (!this.#sink.destroyed) this.#sink.end();
  }
}

/** Resolves when `socket` closes, whatever error came first. */
function closeOf(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}
