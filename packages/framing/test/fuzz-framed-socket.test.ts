import { once } from 'node:events';
import * as net from 'node:net';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, createServer, type FramedServer, type FramedSocket, ProtoError } from '@proto/framing';
import { Cleanup } from '../../../testing/cleanup.js';
import { FuzzCounter, fuzzParams } from '../../../testing/fuzz.js';
import { rawConnect } from '../../../testing/raw-socket.js';
import { PREFIXES, type PrefixName, referenceDecode, splitAt } from '../../../testing/reference-frames.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

// Small enough that random headers are often over it, so every error path is exercised.
const MAX_FRAME_BYTES = 100;
const INPUT_CODES = ['ERR_FRAME_TOO_LARGE', 'ERR_PROTOCOL', 'ERR_UNEXPECTED_EOF'];

const cleanup = new Cleanup();
const counters: FuzzCounter[] = [];

failOnUncaught(cleanup);

afterAll(() => {
  for (const c of counters) c.report();
});

interface Observed {
  frames: Buffer[];
  errors: Error[];
  hadError: boolean;
}

/** Records a FramedSocket's frames and errors until it closes. */
function observe(socket: FramedSocket): Promise<Observed> {
  const frames: Buffer[] = [];
  const errors: Error[] = [];
  socket.on('frame', (frame) => frames.push(frame));
  socket.on('error', (error) => errors.push(error));
  return new Promise((resolve) => socket.once('close', (hadError) => resolve({ frames, errors, hadError })));
}

async function listen(prefix: PrefixName): Promise<FramedServer> {
  const server = createServer({ lengthPrefix: prefix, maxFrameBytes: MAX_FRAME_BYTES });
  cleanup.add(server, (s) => s.close({ timeoutMs: 500 }));
  await server.listen({ host: '127.0.0.1', port: 0 });
  return server;
}

/** An echo link on its own server, kept open through the fuzzing to show other connections are unaffected. */
async function healthyLink(server: FramedServer): Promise<FramedSocket> {
  const accepted = once(server, 'connection');
  const client = await connect({ host: '127.0.0.1', port: server.address().port, lengthPrefix: 'uint32be' });
  cleanup.add(client, (c) => c.destroy());
  const [peer] = (await accepted) as [FramedSocket];
  peer.on('frame', (frame) => peer.send(frame));
  return client;
}

async function echoOnce(client: FramedSocket, text: string): Promise<void> {
  const reply = once(client, 'frame');
  client.send(text);
  const [frame] = (await reply) as [Buffer];
  expect(frame.toString()).toBe(text);
}

describe('fuzz: FramedSocket on a real server fed random bytes', () => {
  it('every connection yields the model frames, then closes cleanly or with a typed error; the server and others go on', async () => {
    const stats = new FuzzCounter('framing/framed-socket/server-random-bytes');
    counters.push(stats);
    const servers = new Map<PrefixName, FramedServer>();
    const clientErrors: Error[] = [];
    const serverErrors: Error[] = [];
    for (const prefix of PREFIXES) {
      const server = await listen(prefix);
      server.on('clientError', (error) => clientErrors.push(error));
      server.on('error', (error) => serverErrors.push(error));
      servers.set(prefix, server);
    }
    const healthy = await healthyLink(servers.get('uint32be')!);

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PREFIXES),
        fc.uint8Array({ maxLength: 300, size: 'medium' }),
        fc.array(fc.nat(300), { maxLength: 6 }),
        async (prefix, bytes, cuts) => {
          stats.runs++;
          stats.add('bytes', bytes.length);
          const server = servers.get(prefix)!;
          const expected = referenceDecode(prefix, bytes, MAX_FRAME_BYTES);
          const accepted = once(server, 'connection');
          const client = await rawConnect(server.address().port);
          cleanup.add(client.socket, (s) => s.destroy());
          const [peer] = (await accepted) as [FramedSocket];
          const seen = observe(peer);
          const errorsBefore = clientErrors.length;
          for (const chunk of splitAt(bytes, cuts)) client.socket.write(chunk);
          client.socket.end();

          const result = await seen;
          await client.outcome;
          stats.add(expected.outcome);
          expect(result.frames).toEqual(expected.frames);
          if (expected.outcome === 'ok') {
            expect(result.errors).toEqual([]);
            expect(result.hadError).toBe(false);
          } else {
            // Exactly one typed error, the model's, reported once as clientError; then the socket closed.
            expect(result.errors).toHaveLength(1);
            expect(result.errors[0]).toBeInstanceOf(ProtoError);
            expect((result.errors[0] as ProtoError).code).toBe(expected.outcome);
            expect(result.hadError).toBe(true);
            expect(clientErrors.slice(errorsBefore)).toEqual(result.errors);
          }
          expect(server.connections.has(peer)).toBe(false);
        },
      ),
      fuzzParams(500),
    );

    expect(serverErrors).toEqual([]);
    for (const error of clientErrors) expect(INPUT_CODES).toContain((error as ProtoError).code);
    await echoOnce(healthy, 'still here');
    expect(servers.get('uint32be')!.connections.size).toBe(1);
  });

  it('a client FramedSocket fed random bytes by a server yields the model frames or one typed error, then closes', async () => {
    const stats = new FuzzCounter('framing/framed-socket/client-random-bytes');
    counters.push(stats);
    let payload: Buffer = Buffer.alloc(0);
    const raw = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.end(payload);
    });
    cleanup.add(raw, (s) => new Promise((resolve) => s.close(resolve)));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const port = (raw.address() as net.AddressInfo).port;

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PREFIXES), fc.uint8Array({ maxLength: 300, size: 'medium' }), async (prefix, bytes) => {
        stats.runs++;
        stats.add('bytes', bytes.length);
        payload = Buffer.from(bytes);
        const expected = referenceDecode(prefix, bytes, MAX_FRAME_BYTES);
        const client = await connect({ host: '127.0.0.1', port, lengthPrefix: prefix, maxFrameBytes: MAX_FRAME_BYTES });
        cleanup.add(client, (c) => c.destroy());
        const result = await observe(client);
        expect(result.frames).toEqual(expected.frames);
        if (expected.outcome === 'ok') expect(result.errors).toEqual([]);
        else {
          expect(result.errors).toHaveLength(1);
          expect((result.errors[0] as ProtoError).code).toBe(expected.outcome);
        }
        expect(client.closed).toBe(true);
      }),
      fuzzParams(200),
    );
  });
});
