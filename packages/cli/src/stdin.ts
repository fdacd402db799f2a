import type { Readable } from 'node:stream';

/**
 * Reads stdin lazily and at most once, shared by everything that wants it: `--password-stdin`
 * takes the first line, `-` params take the rest. Nothing is read (and no handle is held) until
 * someone asks; {@link StdinReader.close} releases it.
 */
export class StdinReader {
  readonly #stream: Readable;
  #iterator: AsyncIterator<string> | undefined;
  #buffer = '';
  #ended = false;

  constructor(stream: Readable) {
    this.#stream = stream;
  }

  /** The first line not read yet, without its line ending (`\n` or `\r\n`); the rest if no newline follows. */
  async line(): Promise<string> {
    let newline = this.#buffer.indexOf('\n');
    while (newline < 0 && (await this.#more())) newline = this.#buffer.indexOf('\n');
    const end = newline < 0 ? this.#buffer.length : newline;
    const line = this.#buffer.slice(0, end).replace(/\r$/, '');
    this.#buffer = this.#buffer.slice(end + 1);
    return line;
  }

  /** The lines not read yet, one at a time as they arrive, until the end of stdin. */
  async *lines(): AsyncGenerator<string> {
    for (;;) {
      let newline = this.#buffer.indexOf('\n');
      while (newline < 0 && (await this.#more())) newline = this.#buffer.indexOf('\n');
      if (newline < 0 && this.#buffer === '') return;
      yield await this.line();
    }
  }

  /** Everything not read yet, up to the end of stdin. */
  async rest(): Promise<string> {
    while (await this.#more());
    const rest = this.#buffer;
    this.#buffer = '';
    return rest;
  }

  /** Stop reading stdin (so an open terminal or pipe does not keep the process alive). */
  async close(): Promise<void> {
    const iterator = this.#iterator;
    this.#iterator = undefined;
    this.#ended = true;
    await iterator?.return?.();
  }

  async #more(): Promise<boolean> {
    if (this.#ended) return false;
    if (this.#iterator === undefined) {
      this.#stream.setEncoding('utf8');
      this.#iterator = this.#stream[Symbol.asyncIterator]() as AsyncIterator<string>;
    }
    const next = await this.#iterator.next();
    if (next.done === true) {
      this.#ended = true;
      return false;
    }
    this.#buffer += next.value;
    return true;
  }
}
