import { afterEach, describe, expect, it } from 'vitest';
import { RpcErrorCode } from '../src/index.js';
import { Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

describe('per-call options', () => {
  it('an unknown key of request() or stream() options is refused by name (a typo is not ignored)', async () => {
    const { server, client } = await resources.pair();
    let ran = 0;
    server.handle('echo', (value: unknown) => (ran++, value));
    server.handleStream('count', function* () {
      ran++;
      yield 1;
    });
    // @ts-expect-error: the misspelt key TypeScript users are warned of, refused at run time too
    await expect(client.request('echo', 1, { timeoutMS: 5 })).rejects.toMatchObject({
      code: RpcErrorCode.INVALID_ARG,
      message: 'request echo: unknown option "timeoutMS" (did you mean "timeoutMs"?)',
    });
    // @ts-expect-error: as above
    const stream = client.stream('count', undefined, { highwatermark: 4 });
    await expect(stream.next()).rejects.toMatchObject({ code: RpcErrorCode.INVALID_ARG, message: 'stream count: unknown option "highwatermark" (did you mean "highWaterMark"?)' });
    expect(ran).toBe(0);
    // The known keys still work, as does no options object at all.
    expect(await client.request('echo', 2, { timeoutMs: 1000, signal: new AbortController().signal })).toBe(2);
    expect(await client.request('echo', 3)).toBe(3);
  });
});
