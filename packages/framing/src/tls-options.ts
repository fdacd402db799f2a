import { readFileSync } from 'node:fs';
import type { ConnectionOptions, PeerCertificate, TlsOptions } from 'node:tls';
import { InvalidArgError } from './errors.js';

/**
 * Key or certificate material: a Buffer, PEM text (a string starting with `-----BEGIN`), or the
 * path of a file holding it (read once, when the socket or server is created).
 */
export type PemInput = string | Buffer;

/** TLS settings of a client made by `connect()`. */
export interface TlsClientOptions {
  /** Private key for a client certificate (mutual TLS). */
  key?: PemInput | readonly PemInput[];
  /** Client certificate chain (mutual TLS). */
  cert?: PemInput | readonly PemInput[];
  /**
   * Certificate authorities trusted to sign the server's certificate.
   * @default Node's bundled root certificates
   */
  ca?: PemInput | readonly PemInput[];
  /** Passphrase of `key`, if it is encrypted. */
  passphrase?: string;
  /**
   * Server name for SNI and certificate verification.
   * @default the `host` when it is a name, none when it is an IP address
   */
  servername?: string;
  /**
   * Refuse a server whose certificate does not verify against `ca`. Turning this off removes the
   * protection TLS exists for; keep it on and pass the server's CA instead.
   * @default true
   */
  rejectUnauthorized?: boolean;
}

/** TLS settings of a server made by `createServer()`. */
export interface TlsServerOptions {
  /** The server's private key. */
  key: PemInput | readonly PemInput[];
  /** The server's certificate chain. */
  cert: PemInput | readonly PemInput[];
  /** Certificate authorities trusted to sign client certificates (mutual TLS). */
  ca?: PemInput | readonly PemInput[];
  /** Passphrase of `key`, if it is encrypted. */
  passphrase?: string;
  /**
   * Ask clients for a certificate.
   * @default false, or true when `isClientAllowed` is set (it needs a certificate to look at)
   */
  requestCert?: boolean;
  /**
   * With `requestCert`, refuse clients whose certificate is missing or does not verify against `ca`.
   * @default true
   */
  rejectUnauthorized?: boolean;
  /**
   * Allow-list hook, called once per client after the handshake with its certificate. Returning
   * `false` (or throwing) closes the connection and reports `clientError` with `ERR_CLIENT_REJECTED`;
   * the connection never reaches `onConnection`. A client without a certificate is refused without
   * calling it.
   */
  isClientAllowed?: (peerCertificate: PeerCertificate) => boolean;
  /**
   * Milliseconds a client may take to complete the TLS handshake; one that stalls or hangs up
   * mid-handshake is closed and reported as `clientError` then.
   * @default 10000
   */
  handshakeTimeoutMs?: number | undefined;
}

type PemOption = PemInput | readonly PemInput[] | undefined;

function readPem(input: PemInput, field: string): string | Buffer {
  if (Buffer.isBuffer(input)) return input;
  if (typeof input !== 'string' || input.length === 0) {
    throw new InvalidArgError(`tls.${field} must be a Buffer, PEM text or a file path`);
  }
  if (input.trimStart().startsWith('-----BEGIN')) return input;
  try {
    return readFileSync(input);
  } catch (cause) {
    throw new InvalidArgError(`tls.${field}: cannot read ${input}`, { cause });
  }
}

function resolvePem(input: PemOption, field: string): string | Buffer | Array<string | Buffer> | undefined {
  if (input === undefined) return undefined;
  if (Array.isArray(input)) return (input as readonly PemInput[]).map((item) => readPem(item, field));
  return readPem(input as PemInput, field);
}

/** Assigns only defined values, as `exactOptionalPropertyTypes` wants. */
function assignDefined<T extends object>(target: T, values: Partial<T>): T {
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) (target as Record<string, unknown>)[name] = value;
  }
  return target;
}

/** Turns {@link TlsClientOptions} (or `true`) into `tls.connect()` options, reading files. */
export function resolveTlsClientOptions(options: true | TlsClientOptions): ConnectionOptions {
  if (options === true) return { rejectUnauthorized: true };
  return assignDefined<ConnectionOptions>(
    { rejectUnauthorized: options.rejectUnauthorized ?? true },
    {
      key: resolvePem(options.key, 'key'),
      cert: resolvePem(options.cert, 'cert'),
      ca: resolvePem(options.ca, 'ca'),
      passphrase: options.passphrase,
      servername: options.servername,
    },
  );
}

/** Turns {@link TlsServerOptions} into `tls.createServer()` options, reading files. */
export function resolveTlsServerOptions(options: TlsServerOptions): TlsOptions {
  if (options.key === undefined || options.cert === undefined) {
    throw new InvalidArgError('tls.key and tls.cert are required for a TLS server');
  }
  return assignDefined<TlsOptions>(
    {
      requestCert: options.requestCert ?? options.isClientAllowed !== undefined,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
    },
    {
      key: resolvePem(options.key, 'key'),
      cert: resolvePem(options.cert, 'cert'),
      ca: resolvePem(options.ca, 'ca'),
      passphrase: options.passphrase,
    },
  );
}
