import { ConnectFailure } from './errors.js';
import { codeOf } from './exit-codes.js';
import { toJson } from './json.js';

/** Longest `data` of a remote error shown on the error line. */
const MAX_DATA_CHARS = 500;

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, '; ').replace(/:; /g, ': ');
}

/** What an error line says, also the fields of the `--json` error object. */
export interface ErrorReport {
  readonly code: string;
  /** The handler's own code, for `ERR_REMOTE`. */
  readonly remoteCode?: string;
  readonly message: string;
  /** `err.data` of a remote error. */
  readonly data?: unknown;
  /** The address, when connecting failed. */
  readonly address?: string;
}

/** The fields worth reporting of an error (for a connect failure, those of its cause). */
export function errorReport(error: unknown): ErrorReport {
  const address = error instanceof ConnectFailure ? error.address : undefined;
  const cause = error instanceof ConnectFailure ? error.cause : error;
  const message = oneLine(cause instanceof Error ? cause.message : String(cause));
  const code = codeOf(cause) ?? (cause instanceof Error ? cause.name : 'Error');
  const remote = cause as { remoteCode?: unknown; data?: unknown };
  return {
    code,
    ...(typeof remote.remoteCode === 'string' ? { remoteCode: remote.remoteCode } : {}),
    message,
    ...(code === 'ERR_REMOTE' && remote.data !== undefined ? { data: remote.data } : {}),
    ...(address === undefined ? {} : { address }),
  };
}

/**
 * The one stderr line of a failed command: `ERR_REMOTE E_TEAPOT: I'm a teapot`,
 * `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1 (tcp://127.0.0.1:1)`; with `json`, the report as
 * one JSON object `{"error":{...}}`.
 */
export function errorLine(error: unknown, json: boolean): string {
  const report = errorReport(error);
  if (json) return toJson({ error: report });
  let line = report.remoteCode === undefined ? `${report.code}: ${report.message}` : `${report.code} ${report.remoteCode}: ${report.message}`;
  if (report.data !== undefined) {
    const data = toJson(report.data);
    line += ` data=${data.length > MAX_DATA_CHARS ? `${data.slice(0, MAX_DATA_CHARS)}...` : data}`;
  }
  if (report.address !== undefined && !report.message.includes(report.address)) line += ` (${report.address})`;
  return line;
}
