import type * as tls from 'node:tls';
import { ClientRejectedError } from './errors.js';
import type { TlsServerOptions } from './tls-options.js';

/** The allow-list hook of {@link TlsServerOptions.isClientAllowed}. */
export type ClientAllowed = NonNullable<TlsServerOptions['isClientAllowed']>;

/**
 * Applies `isClientAllowed` to a client after its TLS handshake.
 *
 * @returns the refusal to destroy the connection with, or `undefined` when the client may stay: a
 *   client without a certificate is refused without calling the hook, and so is one for which the
 *   hook returns anything but `true` or throws (the throw becomes the `cause`).
 */
export function checkClientCertificate(socket: tls.TLSSocket, isClientAllowed: ClientAllowed): ClientRejectedError | undefined {
  const certificate = socket.getPeerCertificate();
  if (certificate === null || Object.keys(certificate).length === 0) {
    return new ClientRejectedError('client presented no certificate');
  }
  try {
    if (isClientAllowed(certificate) === true) return undefined;
    return new ClientRejectedError(`client certificate refused by isClientAllowed (subject CN=${String(certificate.subject?.CN)})`);
  } catch (cause) {
    return new ClientRejectedError('isClientAllowed threw', { cause });
  }
}
