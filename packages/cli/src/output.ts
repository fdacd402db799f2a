import { styleText } from 'node:util';
import type { CliIo, OutputStream } from './io.js';

/** Colours the human output uses (never with `--json`, never off a TTY). */
export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

/**
 * Whether to colour what goes to `stream`: only a TTY, and never when `NO_COLOR` is set (any
 * value, see no-color.org) or `TERM=dumb`; `FORCE_COLOR` (not `0`) forces it on.
 */
export function wantsColor(stream: OutputStream, env: CliIo['env']): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** Where a command writes: results to stdout, diagnostics to stderr, progress only on a TTY. */
export class Output {
  readonly #io: CliIo;
  readonly #color: boolean;
  readonly #errColor: boolean;
  #progressShown = false;

  constructor(
    io: CliIo,
    /** `--json`: machine output, no colour, no progress. */
    readonly json: boolean,
  ) {
    this.#io = io;
    this.#color = !json && wantsColor(io.stdout, io.env);
    this.#errColor = !json && wantsColor(io.stderr, io.env);
  }

  /** One line of results on stdout. */
  line(text: string): void {
    this.clearProgress();
    this.#io.stdout.write(`${text}\n`);
  }

  /** Resolves once stdout has taken what was written (at once unless its buffer is full). */
  drained(): Promise<void> {
    const stdout = this.#io.stdout;
    if (!stdout.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        stdout.off('drain', done);
        stdout.off('close', done);
        resolve();
      };
      stdout.once('drain', done);
      stdout.once('close', done);
    });
  }

  /** One line on stderr (errors, notes). */
  note(text: string): void {
    this.clearProgress();
    this.#io.stderr.write(`${text}\n`);
  }

  /** `text` in `style` when stdout is a colour terminal. */
  paint(style: Style, text: string): string {
    return this.#color ? styleText(style, text, { validateStream: false }) : text;
  }

  /** `text` in `style` when stderr is a colour terminal. */
  paintErr(style: Style, text: string): string {
    return this.#errColor ? styleText(style, text, { validateStream: false }) : text;
  }

  /** Whether a progress line would be shown (stderr is a TTY and not `--json`). */
  get showsProgress(): boolean {
    return !this.json && this.#io.stderr.isTTY === true;
  }

  /** Replace the progress line on stderr (nothing off a TTY). */
  progress(text: string): void {
    if (!this.showsProgress) return;
    this.#io.stderr.write(`\r\x1b[2K${text}`);
    this.#progressShown = true;
  }

  /** Erase the progress line, if one is shown. */
  clearProgress(): void {
    if (!this.#progressShown) return;
    this.#io.stderr.write('\r\x1b[2K');
    this.#progressShown = false;
  }
}
