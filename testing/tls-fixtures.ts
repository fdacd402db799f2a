import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of a TLS fixture of the security tests (testing/fixtures/tls, made by make-certs.sh). */
export function tlsFixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url));
}

/** Contents of a TLS fixture. */
export function tlsFixture(name: string): Buffer {
  return readFileSync(tlsFixturePath(name));
}

/** The server's key and certificate, signed by the test CA, for localhost and 127.0.0.1. */
export const serverTls = (): { key: Buffer; cert: Buffer } => ({ key: tlsFixture('server.key'), cert: tlsFixture('server.pem') });

/** A lone self-signed certificate (no CA) for localhost and 127.0.0.1. */
export const selfSignedTls = (): { key: Buffer; cert: Buffer } => ({ key: tlsFixture('self-signed.key'), cert: tlsFixture('self-signed.pem') });

/** Codes Node gives a certificate chain it cannot verify. */
export const UNVERIFIED_CERT_CODES = [
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
];

/** The code of an error or of its cause chain (TLS failures may be wrapped by the layers above). */
export function deepCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNVERIFIED_CERT_CODES.includes(code) || code.startsWith('ERR_TLS'))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return (error as { code?: string } | undefined)?.code;
}
