import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../../../testing/cleanup.js';
import { cleanServer, PASSWORD, runInProcess, tempDir, withPassword } from './helpers.js';

// The variants of each command run in-process through run(), the bin's own code path: one child
// process per case would cost seconds each. The child-process tests cover the bin itself.

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const server = (): ReturnType<typeof cleanServer> => cleanServer(cleanup);

describe('params and passwords', () => {
  it('reads params from @file, from stdin, and the password from --password-env', async () => {
    const { address, handled } = await server();
    const dir = tempDir();
    cleanup.defer(dir.remove);
    const file = join(dir.path, 'params.json');
    writeFileSync(file, '{"from":"file"}');
    expect(await runInProcess(['call', address, 'echo', `@${file}`, '--json'], { env: withPassword() })).toEqual({ code: 0, stdout: '{"from":"file"}\n', stderr: '' });
    expect(await runInProcess(['call', address, 'echo', '-', '--json'], { env: withPassword(), input: '[1,2]\n' })).toMatchObject({ code: 0, stdout: '[1,2]\n' });
    expect(await runInProcess(['call', address, 'echo', '1', '--password-env', 'MY_SECRET'], { env: { MY_SECRET: PASSWORD } })).toMatchObject({ code: 0, stdout: '1\n' });
    expect(handled).toEqual([{ from: 'file' }, [1, 2], 1]);
  });

  it('takes params starting with - after --', async () => {
    const { address } = await server();
    expect(await runInProcess(['call', address, 'echo', '--json', '--', '-5'], { env: withPassword() })).toMatchObject({ code: 0, stdout: '-5\n' });
  });

  it('prints raw bytes as {"$base64":...}', async () => {
    const { server: rpc, address } = await server();
    rpc.handle(['bytes'], () => Buffer.from([1, 2, 3]));
    expect(await runInProcess(['call', address, 'bytes', '--json'], { env: withPassword() })).toMatchObject({ code: 0, stdout: '{"$base64":"AQID"}\n' });
  });
});

describe('bad usage exits 2 with one ERR_USAGE line', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['params that are not JSON', ['call', '127.0.0.1:1', 'echo', 'hello'], withPassword(), /not valid JSON.*a string needs JSON quotes/],
    ['an unreadable @file', ['call', '127.0.0.1:1', 'echo', '@/nonexistent/params.json'], withPassword(), /cannot read params file \/nonexistent\/params.json: ENOENT/],
    ['empty stdin for -', ['call', '127.0.0.1:1', 'echo', '-'], withPassword(), /no params JSON in stdin/],
    ['no password', ['call', '127.0.0.1:1', 'echo', '1'], {}, /no password: set PROTO_PASSWORD/],
    ['an empty --password-env variable', ['call', '127.0.0.1:1', 'echo', '--password-env', 'EMPTY'], { EMPTY: '' }, /no password: set EMPTY or use/],
    ['both password sources', ['call', '127.0.0.1:1', 'echo', '--password-env', 'X', '--password-stdin'], {}, /either --password-env or --password-stdin/],
    ['a bad address', ['call', 'nowhere', 'echo'], withPassword(), /bad address "nowhere"/],
    ['an unknown scheme', ['call', 'http://127.0.0.1:80', 'echo'], withPassword(), /unknown address scheme http/],
    ['TLS files for a tcp address', ['call', '127.0.0.1:1', 'echo', '--ca', 'ca.pem'], withPassword(), /need a tls:\/\/ address/],
    ['--cert without --key', ['call', 'tls://127.0.0.1:1', 'echo', '--cert', 'c.pem'], withPassword(), /--cert and --key go together/],
    ['an unreadable --ca', ['call', 'tls://127.0.0.1:1', 'echo', '--ca', '/nonexistent/ca.pem'], withPassword(), /cannot read --ca \/nonexistent\/ca.pem: ENOENT/],
    ['a bad --timeout', ['call', '127.0.0.1:1', 'echo', '--timeout', 'soon'], withPassword(), /--timeout must be a whole number of at least 0, not "soon"/],
    ['too many arguments', ['call', '127.0.0.1:1', 'echo', '1', '2'], withPassword(), /unexpected argument "2"/],
    ['an unknown command', ['frobnicate'], {}, /unknown command "frobnicate"/],
    ['a password for --ns', ['sub', '127.0.0.1:1', '**', '--ns', '--password-stdin'], {}, /--ns servers take no password/],
    ['--rate with --concurrency', ['bench', '127.0.0.1:1', 'echo', '--rate', '10', '--concurrency', '2'], withPassword(), /--rate sets the load by itself/],
    ['a zero --count', ['ping', '127.0.0.1:1', '--count', '0'], withPassword(), /--count must be a whole number of at least 1/],
    ['serve without a password', ['serve', '--port', '0'], {}, /no password: set PROTO_PASSWORD/],
  ];
  for (const [what, args, env, message] of cases) {
    it(what, async () => {
      const result = await runInProcess(args, { env });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^ERR_USAGE: [^\n]*\n$/);
      expect(result.stderr).toMatch(message);
    });
  }

  it('--json turns the error line into a JSON object', async () => {
    const result = await runInProcess(['call', 'nowhere', 'echo', '--json'], { env: withPassword() });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toEqual({ error: { code: 'ERR_USAGE', message: expect.stringContaining('bad address') } });
  });

  it('no command prints the overview on stderr and exits 2; --help on stdout and exits 0', async () => {
    const none = await runInProcess([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: proto COMMAND');
    const help = await runInProcess(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['call', 'stream', 'sub', 'pub', 'ping', 'describe', 'bench', 'serve']) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('every command has --help', async () => {
    for (const name of ['call', 'stream', 'sub', 'pub', 'ping', 'describe', 'bench', 'serve']) {
      const result = await runInProcess([name, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: proto ${name} `));
      expect(result.stdout).toContain('--json');
    }
  });
});
