import { describe, expect, it } from 'vitest';
import { RpcClient, RpcError, RpcServer } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { ENCODING, RawRpcLink, requestPayload, RPC } from '../../../testing/rpc-wire.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const PASSWORD = 'errors-secret';
const SECRET_PATH = '/srv/internal/app/secret-config.ts';
const cleanup = new Cleanup();
failOnUncaught(cleanup, () => expect(Object.prototype).not.toHaveProperty('polluted'));

function errorWithPath(message = `ENOENT: no such file or directory, open '${SECRET_PATH}'`): Error {
  const error = new Error(message) as Error & { path: string; code: string; data: unknown };
  error.stack = `Error: ${message}\n    at readConfig (${SECRET_PATH}:42:7)\n    at handler (/srv/internal/app/handlers.ts:10:3)`;
  error.path = SECRET_PATH;
  error.code = 'ENOENT';
  error.data = { path: SECRET_PATH };
  return error;
}

/** Handlers that fail in every way a handler can, each carrying the secret path somewhere. */
const FAILING: Record<string, () => unknown> = {
  'throws-error': () => {
    throw errorWithPath();
  },
  'rejects-error': () => Promise.reject(errorWithPath()),
  'throws-string': () => {
    throw `failed reading ${SECRET_PATH}`;
  },
  'throws-object': () => {
    throw { message: `failed at ${SECRET_PATH}`, stack: `at ${SECRET_PATH}:1:1`, code: 'EACCES' };
  },
  'throws-with-cause': () => {
    throw new Error('wrapper', { cause: errorWithPath() });
  },
  'unserializable-result': () => ({ big: 10n, where: SECRET_PATH }),
  'rpc-error-with-cause': () => {
    // Only code, message and data of an RpcError are sent: its cause (and stack) stay home.
    throw new RpcError('CONFIG', 'configuration unavailable', { retry: true }, { cause: errorWithPath() });
  },
};

async function serverWithFailingHandlers(): Promise<{ port: number; serverErrors: Error[] }> {
  const server = new RpcServer({ password: PASSWORD, keepAlive: false });
  const serverErrors: Error[] = [];
  server.on('error', (error) => serverErrors.push(error));
  for (const [method, handler] of Object.entries(FAILING)) server.handle(method, handler);
  server.handle('echo', (params) => params);
  cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { port, serverErrors };
}

describe('security: no stack trace, path or internal detail reaches a peer', () => {
  it.each(Object.keys(FAILING))('%s: the ERROR on the wire carries no path, stack or error code of the server', async (method) => {
    const { port } = await serverWithFailingHandlers();
    const link = await RawRpcLink.open(port);
    cleanup.add(link, (l) => l.destroy());
    expect(await link.authenticate(PASSWORD)).toBe(true);
    link.send(requestPayload(1, ENCODING.JSON, method, '{}'));
    const answer = await link.next((f) => f[0] === RPC.ERROR || f[0] === RPC.RESULT);
    expect(answer![0]).toBe(RPC.ERROR);
    const text = answer!.toString('utf8', 6);
    for (const secret of ['/srv', 'secret-config', '.ts', ' at ', 'ENOENT', 'EACCES', 'stack', 'cause']) expect(text).not.toContain(secret);
    const wire = JSON.parse(text) as { code?: string; message: string; data?: unknown };
    if (method === 'rpc-error-with-cause') expect(wire).toEqual({ code: 'CONFIG', message: 'configuration unavailable', data: { retry: true } });
    else expect(wire).toEqual({ code: 'INTERNAL', message: 'Internal error' });
  });

  it('an RpcClient sees ERR_REMOTE / INTERNAL with a generic message and no data; the server sees the original', async () => {
    const { port, serverErrors } = await serverWithFailingHandlers();
    const client = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, keepAlive: false });
    cleanup.add(client, (c) => c.destroy());
    await client.connect();
    const error = (await client.request('throws-error', {}).catch((e: unknown) => e)) as Record<string, unknown>;
    expect(error.code).toBe('ERR_REMOTE');
    expect(error.remoteCode).toBe('INTERNAL');
    expect(error.message).toBe('Internal error');
    expect(error.data).toBeUndefined();
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain('/srv');
    expect(String(error.stack)).not.toContain(SECRET_PATH);
    // The server keeps the full story for its own logs.
    expect(serverErrors.some((e) => e.message.includes(SECRET_PATH))).toBe(true);
  });
});

describe('security: request params and results cannot pollute prototypes', () => {
  it('params with __proto__ and constructor keys reach the handler as own properties; Object.prototype is untouched', async () => {
    const server = new RpcServer({ password: PASSWORD, keepAlive: false });
    const seen: unknown[] = [];
    server.handle('inspect', (params) => {
      seen.push(params);
      return params;
    });
    cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const link = await RawRpcLink.open(port);
    cleanup.add(link, (l) => l.destroy());
    expect(await link.authenticate(PASSWORD)).toBe(true);
    const json = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"list":[{"__proto__":{"polluted":1}}]}';
    link.send(requestPayload(3, ENCODING.JSON, 'inspect', json));
    const answer = await link.next((f) => f[0] === RPC.RESULT);
    const params = seen[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect(Object.hasOwn(params, '__proto__')).toBe(true);
    expect(Object.hasOwn(params, 'constructor')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Echoed back unchanged: the keys survive as data.
    expect(JSON.parse(answer!.toString('utf8', 6))).toEqual(JSON.parse(json));
  });

  it('method names like __proto__, constructor and toString are just unknown methods', async () => {
    const { port } = await serverWithFailingHandlers();
    const client = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, keepAlive: false });
    cleanup.add(client, (c) => c.destroy());
    await client.connect();
    for (const method of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__proto__::x']) {
      await expect(client.request(method, {})).rejects.toMatchObject({ code: 'ERR_METHOD_NOT_FOUND' });
    }
    expect(await client.request('echo', 'still fine')).toBe('still fine');
  });
});
