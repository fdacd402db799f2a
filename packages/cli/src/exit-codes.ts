import { ConnectFailure, CliErrorCode } from './errors.js';

/** Exit statuses of `proto`. */
export const ExitCode = Object.freeze({
  /** Success. */
  OK: 0,
  /** The server answered with an error (`ERR_REMOTE` and the other remote codes). */
  REMOTE: 1,
  /** Bad command line or unreadable input. */
  USAGE: 2,
  /** Connecting or authenticating failed, or the connection was lost. */
  CONNECTION: 3,
  /** No answer within `--timeout`. */
  TIMEOUT: 4,
} as const);

/** Any value of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const REMOTE_CODES = new Set([
  'ERR_REMOTE',
  'ERR_METHOD_NOT_FOUND',
  'ERR_INVALID_PARAMS',
  'ERR_INVALID_RESULT',
  'ERR_OVERLOADED',
  'ERR_PEER_NOT_FOUND',
  'ERR_CLUSTER_UNAVAILABLE',
]);
const TIMEOUT_CODES = new Set(['ERR_REQUEST_TIMEOUT', CliErrorCode.TIMEOUT]);

/** The `code` of an error, if it has a string one. */
export function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The exit status for an error a command failed with. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof ConnectFailure) return ExitCode.CONNECTION;
  const code = codeOf(error);
  if (code === CliErrorCode.USAGE || code === 'ERR_INVALID_ARG') return ExitCode.USAGE;
  if (code !== undefined && TIMEOUT_CODES.has(code)) return ExitCode.TIMEOUT;
  if (code !== undefined && REMOTE_CODES.has(code)) return ExitCode.REMOTE;
  // Everything else is about the link: refused, reset, closed, TLS, protocol, auth.
  if (code !== undefined) return ExitCode.CONNECTION;
  return ExitCode.REMOTE;
}
