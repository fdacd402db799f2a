import { once } from 'node:events';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, createServer, type NsServer, type NsSocket, ProtoError } from '@proto/ns';
import { Cleanup } from '../../../testing/cleanup.js';
import { FuzzCounter, fuzzParams } from '../../../testing/fuzz.js';
import {
  eventPayload,
  helloPayload,
  isValidHello,
  NS_EVENT_BINARY,
  NS_EVENT_JSON,
  NS_READY,
  nsVerdict,
  openingBytes,
  TRICKY_SEGMENTS,
} from '../../../testing/ns-wire.js';
import { frame32, type RawClient, rawConnect } from '../../../testing/raw-socket.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const cleanup = new Cleanup();
const counters: FuzzCounter[] = [];

failOnUncaught(cleanup);

afterAll(() => {
  for (const c of counters) c.report();
  // Nothing a peer sent may have reached Object.prototype.
  expect(Object.prototype).not.toHaveProperty('polluted');
});

const SENTINEL = 'fuzz-sentinel::end';

interface Received {
  segments: string[];
  data: unknown;
}

interface Link {
  raw: RawClient;
  /** The server's socket, when the server opened one for this client (its hello arrived): `connection` fired. */
  socket: NsSocket | undefined;
  events: Received[];
  /** The socket's close (its error), or the server's `clientError` for a client it never opened. */
  closed: Promise<Error | undefined>;
}

/** A server that echoes `ping` as `pong`, and a healthy ns client that pings it between fuzz runs. */
async function fixture(): Promise<{ server: NsServer; port: number; clientErrors: Error[]; ping(n: number): Promise<void> }> {
  const clientErrors: Error[] = [];
  const server = createServer((socket) => {
    socket.data('ping', (data) => socket.send('pong', data));
  });
  server.on('clientError', (error) => clientErrors.push(error));
  server.on('error', (error) => expect.unreachable(`server error: ${error.message}`));
  cleanup.add(server, (s) => s.close({ timeoutMs: 500 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const healthy = await connect({ host: '127.0.0.1', port });
  cleanup.add(healthy, (s) => s.destroy());
  const ping = async (n: number): Promise<void> => {
    const reply = new Promise<unknown>((resolve) => healthy.dataOnce('pong', resolve));
    healthy.send('ping', { n });
    expect(await reply).toEqual({ n });
  };
  return { server, port, clientErrors, ping };
}

/**
 * A raw client that writes `bytes` (and ends, with `end`) at once: the server's socket opens (fires
 * `connection`) at the client's hello, so the bytes go out first. Resolves once the server opened a
 * socket for it, refused it (`clientError`), or it closed without either (no hello, no error).
 */
async function openRaw(server: NsServer, port: number, bytes: Buffer, end = false): Promise<Link> {
  const raw = await rawConnect(port);
  cleanup.add(raw.socket, (s) => s.destroy());
  const events: Received[] = [];
  const first = new Promise<{ socket?: NsSocket; error?: Error }>((resolve) => {
    const settle = (outcome: { socket?: NsSocket; error?: Error }): void => {
      server.off('connection', onConnection);
      server.off('clientError', onError);
      resolve(outcome);
    };
    const onConnection = (socket: NsSocket): void => settle({ socket });
    const onError = (error: Error): void => settle({ error });
    server.on('connection', onConnection);
    server.on('clientError', onError);
    void raw.outcome.then(() => settle({}));
  });
  if (end) raw.socket.end(bytes);
  else raw.socket.write(bytes);
  const { socket, error } = await first;
  if (socket === undefined) return { raw, socket, events, closed: Promise.resolve(error) };
  // Events right behind the hello wait for the connection listeners, so this listener sees them all.
  socket.data('**', (data: unknown, segments: string[]) => {
    events.push({ segments, data });
  });
  const closed = new Promise<Error | undefined>((resolve) => socket.once('close', resolve));
  return { raw, socket, events, closed };
}

/** Resolves once the sentinel event arrived (true) or the link closed first (false). */
function sentinelOrClose(link: Link): Promise<boolean> {
  return new Promise((resolve) => {
    if (link.events.some((event) => event.segments.join('::') === SENTINEL)) resolve(true);
    link.socket?.dataOnce(SENTINEL, () => resolve(true));
    void link.closed.then(() => resolve(false));
  });
}

const segmentArb = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...TRICKY_SEGMENTS) },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9_-]{1,8}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10, unit: 'grapheme' }) },
);
const nameArb = fc.array(segmentArb, { minLength: 1, maxLength: 4 }).map((segments) => segments.join('::'));
const jsonTextArb = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '[{"__proto__":null}]',
      '{"a":',
      'NaN',
      '\u0000',
    ),
  },
);
const eventArb = fc.oneof(
  fc.tuple(nameArb, jsonTextArb).map(([name, json]) => eventPayload(NS_EVENT_JSON, name, json)),
  fc.tuple(nameArb, fc.uint8Array({ maxLength: 32 })).map(([name, bytes]) => eventPayload(NS_EVENT_BINARY, name, bytes)),
);
const messageArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 10, arbitrary: eventArb },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)) },
  {
    weight: 2,
    arbitrary: fc.tuple(eventArb, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([payload, at, byte]) => {
      const copy = Buffer.from(payload);
      if (copy.length > 0) copy[at % copy.length] = byte;
      return copy;
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(helloPayload(), Buffer.from([NS_READY]), Buffer.from([0x40]), Buffer.from([0xff])) },
);

describe('fuzz: ns messages from a raw client on a real NsServer', () => {
  it('valid events are delivered intact; the first bad message closes that link with ERR_PROTOCOL; others are unaffected', async () => {
    const stats = new FuzzCounter('ns/server/open-link-messages');
    counters.push(stats);
    const { server, port, clientErrors, ping } = await fixture();

    await fc.assert(
      fc.asyncProperty(fc.array(messageArb, { minLength: 1, maxLength: 5 }), async (messages) => {
        stats.runs++;
        const errorsBefore = clientErrors.length;
        const expected: Received[] = [];
        let failure: string | undefined;
        for (const payload of messages) {
          const verdict = nsVerdict(payload);
          if (verdict.kind === 'protocol-error') {
            failure = verdict.why;
            break;
          }
          expected.push({ segments: verdict.segments, data: verdict.data });
        }
        stats.add('messages', messages.length);
        stats.add(failure === undefined ? 'accepted' : 'rejected');
        const opening = Buffer.concat([openingBytes(), ...messages.map((m) => frame32(m)), frame32(eventPayload(NS_EVENT_JSON, SENTINEL, '1'))]);
        const link = await openRaw(server, port, opening);
        expect(link.socket).toBeDefined(); // a valid hello opens the server's socket
        const reachedSentinel = await sentinelOrClose(link);

        if (failure === undefined) {
          expect(reachedSentinel).toBe(true);
          expect(link.events).toEqual([...expected, { segments: SENTINEL.split('::'), data: 1 }]);
          expect(link.socket?.connected).toBe(true);
          link.raw.socket.end();
          expect(await link.closed).toBeUndefined();
        } else {
          expect(reachedSentinel).toBe(false);
          const error = await link.closed;
          expect(error).toBeInstanceOf(ProtoError);
          expect((error as ProtoError).code).toBe('ERR_PROTOCOL');
          expect(link.events).toEqual(expected);
          expect(clientErrors.slice(errorsBefore)).toEqual([error]);
          const outcome = await link.raw.outcome;
          expect(outcome.received.length).toBeGreaterThan(0); // it got the server's hello, then the close
        }
        await ping(stats.runs);
      }),
      fuzzParams(300),
    );
    expect(server.sockets.size).toBe(1);
  });

  it('a first message that is not a valid hello closes the link with ERR_PROTOCOL and delivers nothing', async () => {
    const stats = new FuzzCounter('ns/server/first-message');
    counters.push(stats);
    const { server, port, clientErrors, ping } = await fixture();
    const firstArb = fc.oneof(
      fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.nat(7), fc.integer({ min: 0, max: 255 })).map(([extra, at, byte]) => {
        const hello = Buffer.concat([helloPayload(), Buffer.alloc(extra % 4, extra)]);
        hello[at % hello.length] = byte;
        return hello;
      }),
      eventArb,
    );
    await fc.assert(
      fc.asyncProperty(firstArb, async (first) => {
        stats.runs++;
        const valid = isValidHello(first);
        stats.add(valid ? 'valid-hello' : 'rejected');
        const link = await openRaw(server, port, Buffer.concat([frame32(first), frame32([NS_READY]), frame32(eventPayload(NS_EVENT_JSON, SENTINEL, '1'))]));
        expect(link.socket !== undefined).toBe(valid); // no connection without a valid hello
        expect(await sentinelOrClose(link)).toBe(valid);
        if (valid) {
          link.raw.socket.end();
          expect(await link.closed).toBeUndefined();
        } else {
          const error = await link.closed;
          expect((error as ProtoError).code).toBe('ERR_PROTOCOL');
          expect(link.events).toEqual([]);
          expect(clientErrors.at(-1)).toBe(error);
        }
        await ping(stats.runs);
      }),
      fuzzParams(200),
    );
  });

  it('random bytes (not even frames) end in a clean close or one typed error, never an uncaught exception', async () => {
    const stats = new FuzzCounter('ns/server/raw-bytes');
    counters.push(stats);
    const { server, port, clientErrors, ping } = await fixture();
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 200, size: 'medium' }), async (opened, bytes) => {
        stats.runs++;
        stats.add('bytes', bytes.length);
        const link = await openRaw(server, port, opened ? Buffer.concat([openingBytes(), Buffer.from(bytes)]) : Buffer.from(bytes), true);
        const error = await link.closed;
        if (error !== undefined) {
          stats.add(String((error as ProtoError).code));
          expect(error).toBeInstanceOf(ProtoError);
          expect(['ERR_PROTOCOL', 'ERR_FRAME_TOO_LARGE', 'ERR_UNEXPECTED_EOF']).toContain((error as ProtoError).code);
          expect(clientErrors.at(-1)).toBe(error);
        } else stats.add('clean');
        await link.raw.outcome;
        await ping(stats.runs);
      }),
      fuzzParams(300),
    );
  });
});
