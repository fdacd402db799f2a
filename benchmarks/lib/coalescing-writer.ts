import type { Socket } from 'node:net';

const SLAB_BYTES = 64 * 1024;

function flushOnTick(writer: CoalescingWriter): void {
  writer.flush();
}

function onDrain(this: Socket & { coalescingWriter: CoalescingWriter }): void {
  this.coalescingWriter.needDrain = false;
}

/**
 * The raw baseline for small messages: uint32be frames copied into a batch and written with one
 * socket.write per tick (or when the batch fills). The batch is carved from a slab so a lone
 * message costs no allocation; a flushed region is never written again.
 */
export class CoalescingWriter {
  readonly socket: Socket;
  needDrain = false;
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  /** Start of the unflushed region in the slab, and its end. */
  #start = 0;
  #end = 0;
  #scheduled = false;

  constructor(socket: Socket) {
    this.socket = socket;
    (socket as Socket & { coalescingWriter: CoalescingWriter }).coalescingWriter = this;
    socket.on('drain', onDrain);
  }

  /** Queue one frame whose payload is `text` as UTF-8. false: wait for drained() before sending more. */
  writeString(text: string): boolean {
    const most = 4 + text.length * 3;
    if (this.#end + most > this.#slab.length) this.#renew(most);
    const slab = this.#slab;
    const bytes = slab.write(text, this.#end + 4, 'utf8');
    slab.writeUInt32BE(bytes, this.#end);
    this.#end += 4 + bytes;
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(flushOnTick, this);
    }
    return !this.needDrain;
  }

  #renew(most: number): void {
    this.flush();
    this.#slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, most));
    this.#start = 0;
    this.#end = 0;
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#end === this.#start) return;
    const out = this.#slab.subarray(this.#start, this.#end);
    this.#start = this.#end;
    if (!this.socket.write(out)) this.needDrain = true;
  }

  drained(): Promise<void> {
    if (!this.needDrain) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('drain', resolve));
  }
}
