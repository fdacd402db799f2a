import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient, RpcServer } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { FuzzCounter, fuzzParams } from '../../../testing/fuzz.js';
import { eventPayload, helloPayload, NS_EVENT_JSON, NS_READY } from '../../../testing/ns-wire.js';
import { deriveKey, ENCODING, proofFor, RawRpcLink, requestPayload, RPC, type RpcVerdict, rpcVerdict, u32Payload } from '../../../testing/rpc-wire.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const PASSWORD = 'fuzz-secret';
const cleanup = new Cleanup();
const suite = new Cleanup();
const counters: FuzzCounter[] = [];

let server: RpcServer;
let port: number;
let healthy: RpcClient;
let handlerRuns = 0;
const authFailures: string[] = [];
const serverErrors: Error[] = [];

beforeAll(async () => {
  server = new RpcServer({ password: PASSWORD, authThrottle: false, authTimeoutMs: 2000, keepAlive: false });
  server.handle('echo', (params) => {
    handlerRuns++;
    return params;
  });
  server.on('authFailed', (info) => authFailures.push(info.reason));
  server.on('error', (error) => serverErrors.push(error));
  suite.add(server, (s) => s.close({ timeoutMs: 500 }));
  port = (await server.listen({ host: '127.0.0.1', port: 0 })).port;
  healthy = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, keepAlive: false });
  suite.add(healthy, (c) => c.destroy());
  await healthy.connect();
});

afterAll(async () => {
  for (const c of counters) c.report();
  await suite.run();
});

failOnUncaught(cleanup);

async function open(): Promise<RawRpcLink> {
  const link = await RawRpcLink.open(port);
  cleanup.add(link, (l) => l.destroy());
  return link;
}

/** The healthy client still gets answers, and is the only authenticated peer. */
async function healthyStillWorks(n: number): Promise<void> {
  const before = handlerRuns;
  expect(await healthy.request('echo', { n })).toEqual({ n });
  handlerRuns = before; // the healthy client's own call is not the fuzzer's
}

/** What a raw client sends before authenticating, built once the challenge is known. */
type PreAuth =
  | { kind: 'extension'; type: number; body: Uint8Array }
  | { kind: 'mutated-proof'; at: number; xor: number }
  | { kind: 'truncated-proof'; keep: number }
  | { kind: 'wrong-proof'; username: string }
  | { kind: 'request'; method: string }
  | { kind: 'ns'; payload: Uint8Array }
  | { kind: 'oversize'; bytes: number };

const preAuthArb: fc.Arbitrary<PreAuth> = fc.oneof(
  fc.record({ kind: fc.constant('extension' as const), type: fc.integer({ min: 0x40, max: 0x7f }), body: fc.uint8Array({ maxLength: 100 }) }),
  fc.record({ kind: fc.constant('mutated-proof' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncated-proof' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('wrong-proof' as const), username: fc.string({ maxLength: 20 }) }),
  fc.record({ kind: fc.constant('request' as const), method: fc.constantFrom('echo', 'nope', '') }),
  fc.record({
    kind: fc.constant('ns' as const),
    payload: fc.oneof(
      fc.constant(helloPayload()),
      fc.constant(eventPayload(NS_EVENT_JSON, 'a', '1')),
      fc.uint8Array({ maxLength: 20 }).filter((b) => b[0] !== NS_READY),
    ),
  }),
  fc.record({ kind: fc.constant('oversize' as const), bytes: fc.integer({ min: 4097, max: 20_000 }) }),
);

async function build(link: RawRpcLink, recipe: PreAuth): Promise<Buffer> {
  const challenge = link.challenge!;
  switch (recipe.kind) {
    case 'extension':
      return Buffer.concat([Buffer.from([recipe.type]), recipe.body]);
    case 'mutated-proof': {
      const { payload } = proofFor(await deriveKey(PASSWORD, challenge), challenge);
      const at = 1 + (recipe.at % (payload.length - 1));
      payload[at] = payload[at]! ^ recipe.xor;
      return payload;
    }
    case 'truncated-proof': {
      const { payload } = proofFor(await deriveKey(PASSWORD, challenge), challenge);
      return payload.subarray(0, 1 + (recipe.keep % (payload.length - 1)));
    }
    case 'wrong-proof':
      return proofFor(await deriveKey('not-the-password', challenge), challenge, recipe.username).payload;
    case 'request':
      return requestPayload(1, ENCODING.JSON, recipe.method, '{}');
    case 'ns':
      return Buffer.from(recipe.payload);
    case 'oversize':
      return Buffer.concat([Buffer.from([RPC.AUTH_PROOF]), Buffer.alloc(recipe.bytes)]);
  }
}

describe('fuzz: the rpc handshake from a raw client', () => {
  it('anything but the one valid proof closes the connection, runs no handler, and authenticates no one', async () => {
    const stats = new FuzzCounter('rpc/handshake/pre-auth');
    counters.push(stats);
    await fc.assert(
      fc.asyncProperty(fc.array(preAuthArb, { minLength: 1, maxLength: 3 }), async (recipes) => {
        stats.runs++;
        const link = await open();
        const payloads: Buffer[] = [];
        for (const recipe of recipes) payloads.push(await build(link, recipe));
        stats.add(recipes[0]!.kind);
        const failuresBefore = authFailures.length;
        link.sendAll(payloads);
        const outcome = await link.outcome;
        // Whatever it was, the server never authenticated it: no AUTH_OK, never a handler.
        expect(link.frames.some((f) => f[0] === RPC.AUTH_OK)).toBe(false);
        expect(handlerRuns).toBe(0);
        expect(outcome.received.length).toBeGreaterThan(0);
        expect(server.peers.size).toBe(1);
        for (const reason of authFailures.slice(failuresBefore)) stats.add(`authFailed:${reason}`);
        await healthyStillWorks(stats.runs);
      }),
      fuzzParams(200),
    );
    // Failures of authenticated peers are reported to the server as 'error' (with the peer): only typed protocol errors.
    for (const error of serverErrors) expect((error as { code?: string }).code).toBe('ERR_PROTOCOL');
  });
});

/** Extension messages an authenticated raw client sends. */
const postAuthArb: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.nat(),
        fc.constantFrom(ENCODING.JSON, ENCODING.JSON, ENCODING.RAW, ENCODING.NONE, 3),
        fc.constantFrom('echo', 'missing', 'ech', 'echo::x', ''),
        fc.oneof(
          { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
          fc.constantFrom('', '{', '{"__proto__":{"polluted":1}}', 'null'),
          fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
        ),
      )
      .map(([id, encoding, method, payload]) => requestPayload(id, encoding, method, payload)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 30 }).map((b) => Buffer.from([RPC.REQUEST, ...b])) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(RPC.RESULT, RPC.ERROR), fc.nat(), fc.integer({ min: 0, max: 4 }), fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.constantFrom('{"message":"x"}', '{"message":"x","code":1}', 'x')))
      .map(([type, id, byte, text]) => {
        const head = Buffer.alloc(6);
        head[0] = type;
        head.writeUInt32BE(id >>> 0, 1);
        head[5] = byte;
        return Buffer.concat([head, Buffer.from(text)]);
      }),
  },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(RPC.CANCEL, RPC.PING, RPC.PONG), fc.nat()).map(([type, n]) => u32Payload(type, n)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0x40, max: 0x7f }), fc.uint8Array({ maxLength: 12 }))
      .map(([type, body]) => Buffer.concat([Buffer.from([type]), body])),
  },
);

function decodeResult(frame: Buffer): unknown {
  const encoding = frame[5];
  const payload = frame.subarray(6);
  if (encoding === ENCODING.NONE) return undefined;
  if (encoding === ENCODING.RAW) return Buffer.from(payload);
  return payload.length === 0 ? undefined : JSON.parse(payload.toString('utf8'));
}

describe('fuzz: rpc control messages from an authenticated raw client', () => {
  it('well-formed messages are answered or ignored as the protocol says; the first malformed one closes the link', async () => {
    const stats = new FuzzCounter('rpc/link/post-auth');
    counters.push(stats);
    let sentinel = 0x7000_0000;
    await fc.assert(
      fc.asyncProperty(fc.array(postAuthArb, { minLength: 1, maxLength: 5 }), async (messages) => {
        stats.runs++;
        const link = await open();
        expect(await link.authenticate(PASSWORD)).toBe(true);
        handlerRuns = 0;
        const verdicts: RpcVerdict[] = [];
        for (const message of messages) {
          const verdict: RpcVerdict = rpcVerdict(message);
          verdicts.push(verdict);
          if (verdict.kind === 'close') break;
        }
        const closes = verdicts.at(-1)!.kind === 'close';
        stats.add(closes ? 'closed' : 'stayed-open');
        stats.add('messages', messages.length);
        const seq = sentinel++;
        link.sendAll([...messages, u32Payload(RPC.PING, seq)]);
        const pong = await link.next((f) => f[0] === RPC.PONG && f.length === 5 && f.readUInt32BE(1) === seq);
        expect(pong === undefined).toBe(closes);
        if (closes) await link.outcome;
        // Every well-formed request before the end got its answer, in order; only 'echo' ran a handler.
        const answers = link.frames.filter((f) => f[0] === RPC.RESULT || f[0] === RPC.ERROR);
        const pongs = link.frames.filter((f) => f[0] === RPC.PONG);
        const requests = verdicts.filter((v): v is Extract<RpcVerdict, { kind: 'request' }> => v.kind === 'request');
        const pingsAnswered = verdicts.filter((v): v is Extract<RpcVerdict, { kind: 'pong' }> => v.kind === 'pong');
        // A link closed for bad input drops answers still in its write batch; an open one answers all.
        if (closes) expect(answers.length).toBeLessThanOrEqual(requests.length);
        else expect(answers).toHaveLength(requests.length);
        expect(handlerRuns).toBe(requests.filter((r) => r.method === 'echo').length);
        answers.forEach((answer, i) => {
          const request = requests[i]!;
          expect(answer.readUInt32BE(1)).toBe(request.id);
          if (request.method === 'echo') {
            expect(answer[0]).toBe(RPC.RESULT);
            expect(decodeResult(answer)).toEqual(request.params);
          } else {
            expect(answer[0]).toBe(RPC.ERROR);
            expect(answer[5]).toBe(1); // METHOD_NOT_FOUND
          }
        });
        if (!closes) pingsAnswered.forEach((ping, i) => expect(pongs[i]!.subarray(1)).toEqual(ping.body));
        if (!closes) {
          link.destroy();
          await link.outcome;
        }
        await healthyStillWorks(stats.runs);
        expect(Object.prototype).not.toHaveProperty('polluted');
      }),
      fuzzParams(200),
    );
    // Failures of authenticated peers are reported to the server as 'error' (with the peer): only typed protocol errors.
    for (const error of serverErrors) expect((error as { code?: string }).code).toBe('ERR_PROTOCOL');
  });
});

describe('rpc: malformed keepalive messages', () => {
  // Regression (found by the property above at FUZZ_RUNS=20): with keepalive off, optional chaining
  // skipped the PONG's length check, so a short PONG was ignored instead of being ERR_PROTOCOL.
  it('a PONG shorter than 4 bytes closes the link even with keepalive off', async () => {
    const link = await open();
    expect(await link.authenticate(PASSWORD)).toBe(true);
    link.sendAll([Buffer.from([RPC.PONG, 1, 2, 3]), u32Payload(RPC.PING, 1)]);
    const pong = await link.next((f) => f[0] === RPC.PONG);
    expect(pong).toBeUndefined();
    expect(link.closed).toBe(true);
  });
});

describe('fuzz: rpc request/response round trips', () => {
  it('any JSON value, bytes or undefined as params comes back equal, both client → server and server → client', async () => {
    const stats = new FuzzCounter('rpc/round-trip');
    counters.push(stats);
    const valueArb = fc.oneof(
      { weight: 4, arbitrary: fc.jsonValue() },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
    healthy.handle('client::echo', (params) => params);
    const peerId = [...server.peers.keys()][0]!;
    await fc.assert(
      fc.asyncProperty(fc.array(valueArb, { minLength: 1, maxLength: 10 }), async (values) => {
        stats.runs++;
        stats.add('requests', values.length * 2);
        const expected = values.map((v) => (v === undefined || Buffer.isBuffer(v) ? v : JSON.parse(JSON.stringify(v))));
        const before = handlerRuns;
        const up = await Promise.all(values.map((v) => healthy.request('echo', v)));
        const down = await Promise.all(values.map((v) => server.request(peerId, 'client::echo', v)));
        handlerRuns = before;
        expect(up).toEqual(expected);
        expect(down).toEqual(expected);
        up.forEach((v, i) => expect(Buffer.isBuffer(v)).toBe(Buffer.isBuffer(values[i])));
      }),
      fuzzParams(200),
    );
  });
});
