import type { Readable, Writable } from 'node:stream';

/** A stream the CLI writes to; `isTTY` decides colour and progress lines. */
export type OutputStream = Writable & { readonly isTTY?: boolean | undefined; readonly columns?: number | undefined };

/** Everything a command touches outside itself, so it runs the same from `bin` and from tests. */
export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Environment variables (passwords come from here, never from arguments). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl+C / SIGTERM: long-running commands stop cleanly and exit 0. */
  readonly signal: AbortSignal;
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
export function flushed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableEnded || stream.destroyed) resolve();
    else stream.write('', () => resolve());
  });
}
