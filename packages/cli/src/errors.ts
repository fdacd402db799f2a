import { ProtoError } from '@proto/rpc';

/** Stable codes of the errors the CLI itself raises (the rest come from `@proto/rpc` and Node). */
export const CliErrorCode = Object.freeze({
  USAGE: 'ERR_USAGE',
  TIMEOUT: 'ERR_TIMEOUT',
} as const);

/** Any code in {@link CliErrorCode}. */
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/** The command line is wrong: unknown option, missing argument, bad value, unreadable input (exit 2). */
export class UsageError extends ProtoError {
  static override readonly code = CliErrorCode.USAGE;
}

/** The command's `--timeout` passed before it had what it waited for (exit 4). */
export class CliTimeoutError extends ProtoError {
  static override readonly code = CliErrorCode.TIMEOUT;
}

/**
 * Connecting or authenticating failed: whatever the underlying code, the exit code is 3 (the
 * printed code is the cause's). Internal: it carries the phase, not a condition of its own.
 */
export class ConnectFailure extends Error {
  constructor(
    /** `tcp://host:port`, `tls://...` or `unix:/path`, for the message. */
    readonly address: string,
    override readonly cause: unknown,
  ) {
    super(`cannot connect to ${address}`, { cause });
    this.name = 'ConnectFailure';
  }
}
