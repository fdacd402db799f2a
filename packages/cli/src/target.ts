import { readFile } from 'node:fs/promises';
import type { TlsClientOptions } from '@proto/rpc';
import { type Address, parseAddress } from './address.js';
import { flagValue, intValue, type OptionSpecs, type Parsed, stringValue } from './args.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import type { StdinReader } from './stdin.js';

/** Options every command that connects takes. */
export const CONNECTION_OPTIONS: OptionSpecs = {
  'password-env': { type: 'string', arg: 'NAME', description: 'read the password from this environment variable (default PROTO_PASSWORD)' },
  'password-stdin': { type: 'boolean', description: 'read the password from the first line of stdin' },
  username: { type: 'string', arg: 'NAME', description: "username the server's authenticate() looks up (default none)" },
  ca: { type: 'string', arg: 'FILE', description: 'tls:// only: CA certificate(s) the server must be signed by (PEM)' },
  cert: { type: 'string', arg: 'FILE', description: 'tls:// only: client certificate for mutual TLS (PEM, with --key)' },
  key: { type: 'string', arg: 'FILE', description: 'tls:// only: private key of --cert (PEM)' },
  insecure: { type: 'boolean', description: "tls:// only: do not verify the server's certificate (never in production)" },
  'connect-timeout': { type: 'string', arg: 'MS', description: 'give up connecting and authenticating after MS (default 10000; exit 3)' },
  json: { type: 'boolean', description: 'machine output (JSON lines on stdout, errors as JSON on stderr)' },
};

/** `--ns`, for the commands that also speak to plain ns servers. */
export const NS_OPTION: OptionSpecs = {
  ns: { type: 'boolean', description: 'a plain @proto/ns server: no password, no authentication' },
};

/** Default `--connect-timeout`. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The default variable `--password-env` names. */
export const DEFAULT_PASSWORD_ENV = 'PROTO_PASSWORD';

/** Where and how to connect, resolved from the command line. */
export interface Target {
  readonly address: Address;
  /** TLS options for a `tls://` address. */
  readonly tls: true | TlsClientOptions | undefined;
  /** Undefined for `--ns`. */
  readonly password: string | undefined;
  readonly username: string | undefined;
  /** `--connect-timeout`: bound on dialling, TLS and authentication. */
  readonly connectTimeoutMs: number;
}

async function readPem(path: string, option: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read --${option} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function tlsOptions(parsed: Parsed, address: Address): Promise<true | TlsClientOptions | undefined> {
  const ca = stringValue(parsed, 'ca');
  const cert = stringValue(parsed, 'cert');
  const key = stringValue(parsed, 'key');
  const insecure = flagValue(parsed, 'insecure');
  if (address.transport !== 'tls') {
    if (ca !== undefined || cert !== undefined || key !== undefined || insecure) {
      throw new UsageError('--ca, --cert, --key and --insecure need a tls:// address');
    }
    return undefined;
  }
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--cert and --key go together');
  if (ca === undefined && cert === undefined && !insecure) return true;
  const options: TlsClientOptions = {};
  if (ca !== undefined) options.ca = await readPem(ca, 'ca');
  if (cert !== undefined && key !== undefined) {
    options.cert = await readPem(cert, 'cert');
    options.key = await readPem(key, 'key');
  }
  if (insecure) options.rejectUnauthorized = false;
  return options;
}

async function password(parsed: Parsed, env: CliIo['env'], stdin: StdinReader): Promise<string> {
  const name = stringValue(parsed, 'password-env');
  if (flagValue(parsed, 'password-stdin')) {
    if (name !== undefined) throw new UsageError('give either --password-env or --password-stdin');
    const line = await stdin.line();
    if (line === '') throw new UsageError('--password-stdin: the first line of stdin is empty');
    return line;
  }
  const variable = name ?? DEFAULT_PASSWORD_ENV;
  const value = env[variable];
  if (value === undefined || value === '') {
    throw new UsageError(`no password: set ${variable}${name === undefined ? ' (or name another variable with --password-env)' : ''} or use --password-stdin`);
  }
  return value;
}

/**
 * Resolve `ADDR` and the connection options. With `ns`, no password is read (and password options
 * are refused).
 * @throws UsageError for a bad address, unreadable TLS files or a missing password.
 */
export async function resolveTarget(parsed: Parsed, addressText: string, env: CliIo['env'], stdin: StdinReader, ns = false): Promise<Target> {
  const address = parseAddress(addressText);
  const tls = await tlsOptions(parsed, address);
  const username = stringValue(parsed, 'username');
  const connectTimeoutMs = intValue(parsed, 'connect-timeout', DEFAULT_CONNECT_TIMEOUT_MS, 1);
  if (ns) {
    if (flagValue(parsed, 'password-stdin') || stringValue(parsed, 'password-env') !== undefined || username !== undefined) {
      throw new UsageError('--ns servers take no password or username');
    }
    return { address, tls, password: undefined, username: undefined, connectTimeoutMs };
  }
  return { address, tls, password: await password(parsed, env, stdin), username, connectTimeoutMs };
}
