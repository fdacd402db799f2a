import { afterEach, describe, expect, it } from 'vitest';
import type { StreamContext } from '../src/index.js';
import { collect, deferred, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

describe("a handler done with ctx.input stops the caller's input", () => {
  // The caller's input never ends by itself: only a stop from the handler closes it (its finally).
  function endless(closed: { resolve(): void }, pulled: { count: number }): AsyncGenerator<number> {
    return (async function* () {
      try {
        for (let i = 0; ; i++) {
          pulled.count++;
          yield i;
        }
      } finally {
        closed.resolve();
      }
    })();
  }

  it('break out of for-await over ctx.input: the input iterator is closed (finally runs), the items keep flowing', async () => {
    const { server, client } = await resources.pair();
    const inputClosed = deferred();
    let aborted = false;
    server.handleStream('firstThree', async function* (_params, ctx: StreamContext<number>) {
      const seen: number[] = [];
      for await (const n of ctx.input) {
        seen.push(n);
        if (seen.length === 3) break;
      }
      yield seen;
      // Would wait for ever if the caller's input were only dropped here and not stopped at its source.
      await inputClosed.promise;
      aborted = ctx.signal.aborted;
      yield 'after the input closed';
    });
    const pulled = { count: 0 };
    const items = await collect(client.stream('firstThree', undefined, { input: endless(inputClosed, pulled) }));
    expect(items).toEqual([[0, 1, 2], 'after the input closed']);
    expect(aborted).toBe(false); // the stream itself was not cancelled
    expect(pulled.count).toBeLessThanOrEqual(3 + 16); // never beyond the credit
  });

  it('ctx.input.return() does the same without a loop', async () => {
    const { server, client } = await resources.pair();
    const inputClosed = deferred();
    server.handleStream('one', async function* (_params, ctx: StreamContext<number>) {
      const first = await ctx.input.next();
      await ctx.input.return?.();
      expect(await ctx.input.next()).toEqual({ value: undefined, done: true });
      await inputClosed.promise;
      yield first.value;
      yield 'done';
    });
    const items = await collect(client.stream('one', undefined, { input: endless(inputClosed, { count: 0 }) }));
    expect(items).toEqual([0, 'done']);
  });

  it('the same from the server to a client handler (server.stream with input)', async () => {
    const { server, client, peer } = await resources.pair();
    const inputClosed = deferred();
    client.handleStream('first', async function* (_params, ctx: StreamContext<number>) {
      for await (const n of ctx.input) {
        yield n;
        break;
      }
      await inputClosed.promise;
      yield 'end';
    });
    const items = await collect(server.stream(peer.id, 'first', undefined, { input: endless(inputClosed, { count: 0 }) }));
    expect(items).toEqual([0, 'end']);
  });
});
