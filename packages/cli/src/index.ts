// Programmatic entry point of @proto/cli: the same runner the `proto` bin uses.

export { run } from './run.js';
export { ExitCode } from './exit-codes.js';
export { CliErrorCode, CliTimeoutError, UsageError } from './errors.js';

export type { CliIo, OutputStream } from './io.js';
