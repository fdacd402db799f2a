import { once } from 'node:events';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type NsSocket } from '@proto/ns';
import { Cleanup } from '../../../testing/cleanup.js';
import { FuzzCounter, fuzzParams } from '../../../testing/fuzz.js';
import { nameProblem, TRICKY_SEGMENTS } from '../../../testing/ns-wire.js';

const cleanup = new Cleanup();
const counters: FuzzCounter[] = [];

afterEach(async () => {
  await cleanup.run();
});

afterAll(() => {
  for (const c of counters) c.report();
});

/** A connected client and the server's socket for it. */
async function pair(): Promise<{ client: NsSocket; peer: NsSocket }> {
  const server = createServer();
  cleanup.add(server, (s) => s.close({ timeoutMs: 500 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const accepted = once(server, 'connection');
  const client = await connect({ host: '127.0.0.1', port });
  cleanup.add(client, (c) => c.destroy());
  const [peer] = (await accepted) as [NsSocket];
  return { client, peer };
}

const segmentArb = fc
  .oneof(
    { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.constantFrom(...TRICKY_SEGMENTS) },
  )
  .filter((segment) => nameProblem(segment) === undefined);
const nameArb = fc
  .array(segmentArb, { minLength: 1, maxLength: 4 })
  .filter((segments) => !segments.some((s) => s.includes('::')) && nameProblem(segments.join('::')) === undefined);

type Sent = { segments: string[]; kind: 'json'; value: unknown } | { segments: string[]; kind: 'bytes'; value: Uint8Array };

const sentArb: fc.Arbitrary<Sent> = fc.oneof(
  fc.record({ segments: nameArb, kind: fc.constant('json' as const), value: fc.oneof(fc.jsonValue(), fc.constant(undefined)) }),
  fc.record({ segments: nameArb, kind: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 600 }) }),
);

/** What the receiver must see for a sent value: JSON's own round trip, or the same bytes as a Buffer. */
function expectedData(sent: Sent): unknown {
  if (sent.kind === 'bytes') return Buffer.from(sent.value);
  return sent.value === undefined ? undefined : JSON.parse(JSON.stringify(sent.value));
}

/** Sends every event from `from`, collects them on `to`, and checks order, names and data. */
async function roundTrip(from: NsSocket, to: NsSocket, batch: readonly Sent[]): Promise<void> {
  const received: { segments: string[]; data: unknown }[] = [];
  const done = new Promise<void>((resolve) => {
    const listener = (data: unknown, segments: string[]): void => {
      received.push({ segments, data });
      if (received.length === batch.length) {
        to.offData('**', listener);
        resolve();
      }
    };
    to.data('**', listener);
  });
  for (const sent of batch) {
    // Strings and arrays name the same event.
    if (sent.segments.length === 1 && sent.kind === 'json') from.send(sent.segments[0]!, sent.value);
    else from.send(sent.segments, sent.value);
  }
  await done;
  expect(received).toEqual(batch.map((sent) => ({ segments: sent.segments, data: expectedData(sent) })));
  for (let i = 0; i < batch.length; i++) {
    if (batch[i]!.kind === 'bytes') expect(Buffer.isBuffer(received[i]!.data)).toBe(true);
  }
}

describe('fuzz: ns send → data round trips on a real connection', () => {
  it('any JSON value or bytes under any valid event name arrives equal, in order, both ways', async () => {
    const stats = new FuzzCounter('ns/round-trip');
    counters.push(stats);
    const { client, peer } = await pair();
    await fc.assert(
      fc.asyncProperty(fc.array(sentArb, { minLength: 1, maxLength: 20 }), fc.boolean(), async (batch, fromClient) => {
        stats.runs++;
        stats.add('events', batch.length);
        await (fromClient ? roundTrip(client, peer, batch) : roundTrip(peer, client, batch));
      }),
      fuzzParams(300),
    );
    expect(client.connected).toBe(true);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});
