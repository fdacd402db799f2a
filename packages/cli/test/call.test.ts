import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../../../testing/cleanup.js';
import { cleanServer, PASSWORD, proto, startServer, withPassword } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const server = (): ReturnType<typeof cleanServer> => cleanServer(cleanup);

describe('proto call', () => {
  it('prints the result as indented JSON, or one line with --json', async () => {
    const { address } = await server();
    const pretty = await proto(['call', address, 'echo', '{"a":[1,2]}'], { env: withPassword() });
    expect(pretty).toMatchObject({ code: 0, stderr: '' });
    expect(pretty.stdout).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}\n');
    const json = await proto(['call', address, 'math::add', '{"a":1,"b":2}', '--json'], { env: withPassword() });
    expect(json).toMatchObject({ code: 0, stdout: '3\n', stderr: '' });
  });

  it('reads params from stdin after the password line (--password-stdin)', async () => {
    const { address, handled } = await server();
    const both = await proto(['call', address, 'echo', '-', '--json', '--password-stdin'], { input: `${PASSWORD}\n{"from":"stdin"}` });
    expect(both).toMatchObject({ code: 0, stdout: '{"from":"stdin"}\n', stderr: '' });
    expect(handled).toEqual([{ from: 'stdin' }]);
  });

  it('prints a remote error as one line with its codes and exits 1', async () => {
    const { address } = await server();
    const result = await proto(['call', address, 'teapot'], { env: withPassword() });
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `ERR_REMOTE E_TEAPOT: I'm a teapot data={"brew":"coffee"}\n` });
    const json = await proto(['call', address, 'teapot', '--json'], { env: withPassword() });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'ERR_REMOTE', remoteCode: 'E_TEAPOT', message: "I'm a teapot", data: { brew: 'coffee' } } });
  });

  it('exits 1 with the library codes for an unknown method and invalid params, on one line', async () => {
    const { address } = await server();
    const missing = await proto(['call', address, 'nope'], { env: withPassword() });
    expect(missing).toMatchObject({ code: 1, stderr: 'ERR_METHOD_NOT_FOUND: no handler for method nope\n' });
    const invalid = await proto(['call', address, 'math::add', '{"a":1,"b":"x"}'], { env: withPassword() });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^ERR_INVALID_PARAMS: .*\bb\b.*\n$/);
    expect(invalid.stderr.split('\n')).toHaveLength(2);
  });

  it('exits 3 on a wrong password', async () => {
    const { address } = await server();
    const result = await proto(['call', address, 'echo', '1'], { env: withPassword('wrong') });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^ERR_AUTH_FAILED: .*\(tcp:\/\/127\.0\.0\.1:\d+\)\n$/);
  });

  it('exits 3 when nothing listens', async () => {
    const { server: closed, address } = await startServer();
    await closed.close();
    const result = await proto(['call', address, 'echo', '1'], { env: withPassword() });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^ECONNREFUSED: /);
  });

  it('exits 4 when the answer does not come within --timeout (and cancels the handler)', async () => {
    const { server: rpc, address } = await server();
    const result = await proto(['call', address, 'hang', '--timeout', '300'], { env: withPassword() });
    expect(result).toMatchObject({ code: 4, stdout: '' });
    expect(result.stderr).toMatch(/^ERR_REQUEST_TIMEOUT: /);
    expect(rpc.peers.size).toBe(0);
  });
});

describe('proto call: bad usage', () => {
  it('exits 2 with one ERR_USAGE line (missing arguments, unknown option)', async () => {
    const missing = await proto(['call', '127.0.0.1:1'], { env: withPassword() });
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^ERR_USAGE: proto call needs ADDR METHOD \[JSON\] \(see proto call --help\)\n$/);
    const unknown = await proto(['call', '127.0.0.1:1', 'echo', '--bogus'], { env: withPassword() });
    expect(unknown).toMatchObject({ code: 2, stdout: '', stderr: "ERR_USAGE: Unknown option '--bogus' (see proto call --help)\n" });
  });

  it('--help prints the usage and exits 0', async () => {
    const result = await proto(['call', '--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Usage: proto call ADDR METHOD \[JSON\] \[options\]\n/);
    expect(result.stdout).toContain('--password-stdin');
  });
});
