import { DESCRIBE_METHOD } from '@proto/rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../../../testing/cleanup.js';
import { proto, runInProcess, startServer, withPassword } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('proto ping', () => {
  it('prints --count round-trip times and a summary', async () => {
    const { server, address } = await startServer();
    cleanup.defer(() => server.close());
    const result = await proto(['ping', address, '--count', '2', '--interval', '0'], { env: withPassword() });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^connected to tcp:\/\/127\.0\.0\.1:\d+ in \d+\.\d{3} ms/);
    expect(lines[1]).toMatch(/^reply from tcp:\/\/127\.0\.0\.1:\d+: seq=1 time=\d+\.\d{3} ms$/);
    expect(lines[2]).toMatch(/seq=2 time=/);
    expect(lines[3]).toMatch(/^2 pings: min \d+\.\d{3} ms, avg \d+\.\d{3} ms, max \d+\.\d{3} ms$/);
  });

  it('defaults to 3 pings; --json gives one object', async () => {
    const { server, address } = await startServer();
    cleanup.defer(() => server.close());
    const result = await runInProcess(['ping', address, '--interval', '0', '--json'], { env: withPassword() });
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as { rttMs: number[]; minMs: number; maxMs: number };
    expect(answer.rttMs).toHaveLength(3);
    expect(answer.minMs).toBe(Math.min(...answer.rttMs));
    expect(answer.maxMs).toBe(Math.max(...answer.rttMs));
  });
});

describe('proto describe', () => {
  it('lists methods with their contracts as short types; --json gives the JSON Schemas', async () => {
    const { server, address } = await startServer({ describe: true });
    cleanup.defer(() => server.close());
    const result = await proto(['describe', address], { env: withPassword() });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.split('\n')).toEqual([
      expect.stringMatching(/^4 methods on tcp:\/\/127\.0\.0\.1:\d+$/),
      '  echo       no contract',
      '  hang       no contract',
      '  math::add  { a: number, b: number } → number',
      '  teapot     no contract',
      '',
    ]);
    const json = await runInProcess(['describe', address, '--json'], { env: withPassword() });
    const answer = JSON.parse(json.stdout) as { version: number; methods: { name: string; schemas?: Record<string, unknown> }[] };
    expect(answer.version).toBe(1);
    expect(answer.methods.find((method) => method.name === 'math::add')!.schemas!.params).toMatchObject({ type: 'object', required: ['a', 'b'] });
  });

  it('exits 1 with a hint when the server does not publish its methods', async () => {
    const { server, address } = await startServer();
    cleanup.defer(() => server.close());
    const result = await runInProcess(['describe', address], { env: withPassword() });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'ERR_METHOD_NOT_FOUND: the server does not publish its methods (it needs new RpcServer({ describe: true }))\n',
    });
    expect(DESCRIBE_METHOD).toBe('$rpc::describe');
  });
});
