import { RpcError } from '@proto/rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../../../testing/cleanup.js';
import { cleanServer, proto, runInProcess, startProto, withPassword } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('proto stream', () => {
  it('prints one JSON item per line, then exits 0 when the stream ends', async () => {
    const { server, address } = await cleanServer(cleanup);
    server.handleStream(['items'], async function* ({ n }: { n: number }) {
      for (let i = 1; i <= n; i++) yield { i };
      yield Buffer.from([1, 2, 3]); // raw bytes on the wire
    });
    const result = await proto(['stream', address, 'items', '{"n":3}'], { env: withPassword() });
    expect(result).toEqual({
      code: 0,
      signal: null,
      stdout: '{"i":1}\n{"i":2}\n{"i":3}\n{"$base64":"AQID"}\n',
      stderr: '',
    });
  });

  it('prints the items sent before a handler error, then the error line (exit 1)', async () => {
    const { server, address } = await cleanServer(cleanup);
    server.handleStream(['fails'], async function* () {
      yield 1;
      yield 2;
      throw new RpcError('E_BROKEN', 'ran dry');
    });
    const result = await runInProcess(['stream', address, 'fails'], { env: withPassword() });
    expect(result).toEqual({ code: 1, stdout: '1\n2\n', stderr: 'ERR_REMOTE E_BROKEN: ran dry\n' });
  });

  it('Ctrl+C cancels the stream on the server (its finally runs) and exits 0', async () => {
    const { server, address } = await cleanServer(cleanup);
    let finished!: () => void;
    const handlerFinished = new Promise<void>((resolve) => (finished = resolve));
    server.handleStream(['forever'], async function* (_params, ctx) {
      try {
        for (let i = 0; ; i++) {
          yield i;
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (ctx.signal.aborted) return;
        }
      } finally {
        finished();
      }
    });
    const running = startProto(['stream', address, 'forever'], { env: withPassword() });
    await running.line((line) => line === '2');
    running.child.kill('SIGINT');
    const result = await running.done;
    await handlerFinished;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('exits 4 when the whole stream outlasts --timeout', async () => {
    const { server, address } = await cleanServer(cleanup);
    server.handleStream(['slow'], async function* (_params, ctx) {
      yield 'first';
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    });
    const result = await runInProcess(['stream', address, 'slow', '--timeout', '300'], { env: withPassword() });
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('"first"\n');
    expect(result.stderr).toMatch(/^ERR_REQUEST_TIMEOUT: /);
  });

  it('--input - sends stdin JSON lines as the input items', async () => {
    const { server, address } = await cleanServer(cleanup);
    server.handleStream(['sum'], async function* (_params, ctx) {
      let total = 0;
      for await (const value of ctx.input) {
        total += value as number;
        yield total;
      }
    });
    const result = await runInProcess(['stream', address, 'sum', '--input', '-'], { env: withPassword(), input: '1\n2\n\n3\n' });
    expect(result).toEqual({ code: 0, stdout: '1\n3\n6\n', stderr: '' });
    const bad = await runInProcess(['stream', address, 'sum', '--input', '-'], { env: withPassword(), input: '1\nnope\n' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ERR_USAGE: invalid input JSON line "nope"/);
  });

  it('exits 1 for a method that is not a stream', async () => {
    const { address } = await cleanServer(cleanup);
    const result = await runInProcess(['stream', address, 'nope'], { env: withPassword() });
    expect(result).toMatchObject({ code: 1, stderr: 'ERR_METHOD_NOT_FOUND: no stream handler for method nope\n' });
  });
});
