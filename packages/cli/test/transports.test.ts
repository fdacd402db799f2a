import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../../../testing/cleanup.js';
import { serverTls, tlsFixture, tlsFixturePath } from '../../../testing/tls-fixtures.js';
import { proto, runInProcess, startServer, tempDir, withPassword } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('TLS (certificates from testing/fixtures/tls)', () => {
  it('calls over tls:// with --ca; refuses an unverified server (exit 3) unless --insecure', async () => {
    const { server, address } = await startServer({ tls: serverTls() });
    cleanup.defer(() => server.close());
    expect(address).toMatch(/^tls:\/\//);
    const ok = await proto(['call', address, 'math::add', '{"a":2,"b":3}', '--ca', tlsFixturePath('ca.pem')], { env: withPassword() });
    expect(ok).toMatchObject({ code: 0, stdout: '5\n', stderr: '' });
    const unverified = await runInProcess(['call', address, 'echo', '1'], { env: withPassword() });
    expect(unverified.code).toBe(3);
    expect(unverified.stderr).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): .*\(tls:\/\/127\.0\.0\.1:\d+\)\n$/);
    const insecure = await runInProcess(['call', address, 'echo', '1', '--insecure'], { env: withPassword() });
    expect(insecure).toMatchObject({ code: 0, stdout: '1\n' });
  });

  it('presents a client certificate with --cert/--key (mutual TLS)', async () => {
    const { server, address } = await startServer({
      tls: { ...serverTls(), ca: tlsFixture('ca.pem'), requestCert: true, rejectUnauthorized: true },
    });
    cleanup.defer(() => server.close());
    const ca = ['--ca', tlsFixturePath('ca.pem')];
    const withCert = await runInProcess(['call', address, 'echo', '"mtls"', ...ca, '--cert', tlsFixturePath('client.pem'), '--key', tlsFixturePath('client.key')], { env: withPassword() });
    expect(withCert).toMatchObject({ code: 0, stdout: '"mtls"\n' });
    const without = await runInProcess(['call', address, 'echo', '1', ...ca], { env: withPassword() });
    expect(without.code).toBe(3);
    expect(without.stderr.split('\n')).toHaveLength(2);
  });

  it('talks TLS to a plain TCP server only to fail with exit 3', async () => {
    const { server, address } = await startServer();
    cleanup.defer(() => server.close());
    const result = await runInProcess(['call', `tls://${address}`, 'echo', '1', '--insecure'], { env: withPassword() });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^ERR_SSL_\w+: [^\n]*\n$/);
  });
});

describe('Unix sockets', () => {
  it('calls over unix:/path', async () => {
    const dir = tempDir();
    cleanup.defer(dir.remove);
    const path = join(dir.path, 'rpc.sock');
    const { server, address } = await startServer({}, { path });
    cleanup.defer(() => server.close());
    expect(address).toBe(`unix:${path}`);
    const result = await proto(['call', address, 'echo', '{"over":"unix"}', '--json'], { env: withPassword() });
    expect(result).toMatchObject({ code: 0, stdout: '{"over":"unix"}\n', stderr: '' });
  });

  it('exits 3 when the socket file does not exist', async () => {
    const dir = tempDir();
    cleanup.defer(dir.remove);
    const result = await runInProcess(['call', `unix:${join(dir.path, 'none.sock')}`, 'echo'], { env: withPassword() });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^ENOENT: /);
  });
});
