import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../../../testing/cleanup.js';
import { type RunningProto, runInProcess, startProto, withPassword } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

// `serve` runs as a real process (its port line, Ctrl+C, exit code); the clients talking to it run
// in-process (`run()`, the bin's own code), which spares a Node + tsx start-up per client call.

async function serve(): Promise<{ running: RunningProto; address: string }> {
  const running = startProto(['serve', '--port', '0', '--json'], { env: withPassword() });
  cleanup.defer(async () => {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
    await running.done;
  });
  const listening = JSON.parse(await running.line((line) => line.includes('"listening"'))) as { host: string; port: number };
  expect(listening.host).toBe('127.0.0.1');
  return { running, address: `127.0.0.1:${listening.port}` };
}

describe('proto serve', () => {
  it('serves math::add, echo, the teapot and describe on 127.0.0.1; Ctrl+C closes it (exit 0)', async () => {
    const { running, address } = await serve();
    const env = withPassword();
    expect(await runInProcess(['call', address, 'math::add', '{"a":1,"b":2}'], { env })).toMatchObject({ code: 0, stdout: '3\n' });
    const [echo, teapot, described] = await Promise.all([
      runInProcess(['call', address, 'echo', '{"hi":true}', '--json'], { env }),
      runInProcess(['call', address, 'demo::teapot'], { env }),
      runInProcess(['describe', address, '--json'], { env }),
    ]);
    expect(echo).toMatchObject({ code: 0, stdout: '{"hi":true}\n' });
    expect(teapot).toMatchObject({ code: 1, stderr: `ERR_REMOTE E_TEAPOT: I'm a teapot data={"brew":"coffee"}\n` });
    const names = (JSON.parse(described.stdout) as { methods: { name: string }[] }).methods.map((method) => method.name);
    expect(names).toEqual(['count::up', 'demo::teapot', 'echo', 'math::add', 'time::sleep']);
    expect(await runInProcess(['stream', address, 'count::up', '{"n":3}'], { env })).toMatchObject({ code: 0, stdout: '1\n2\n3\n' });
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('{"event":"closed"}');
  });

  it('broadcasts chat::* events from one client to the others', async () => {
    const { address } = await serve();
    const env = withPassword();
    const sub = startProto(['sub', address, 'chat::*', '--count', '1'], { env });
    await sub.line((line) => line.includes('subscribed to'), 'stderr');
    expect(await runInProcess(['pub', address, 'chat::message', '{"text":"hello"}'], { env })).toMatchObject({ code: 0 });
    expect(await sub.done).toMatchObject({ code: 0, stdout: '{"event":["chat","message"],"data":{"text":"hello"}}\n' });
  });

  it('refuses a wrong password (the client exits 3, serve logs authFailed)', async () => {
    const { running, address } = await serve();
    const result = await runInProcess(['call', address, 'echo', '1'], { env: withPassword('wrong') });
    expect(result.code).toBe(3);
    expect(await running.line((line) => line.includes('"authFailed"'))).toMatch(/"reason":"wrong-password"/);
  });
});
