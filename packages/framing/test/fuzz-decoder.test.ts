import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeFrame,
  encodeHeader,
  FrameDecoder,
  FrameTooLargeError,
  type LengthPrefixCodec,
  ProtocolError,
  ProtoError,
} from '@proto/framing';
import { FuzzCounter, fuzzParams } from '../../../testing/fuzz.js';
import {
  MAX_HEADER_BYTES,
  MAX_LENGTH,
  PREFIXES,
  type PrefixName,
  referenceDecode,
  referenceEncode,
  type StreamOutcome,
  splitAt,
} from '../../../testing/reference-frames.js';

// The codes a decoder may raise for bad input (FramingErrorCode documents them).
const DECODER_CODES = new Set(['ERR_FRAME_TOO_LARGE', 'ERR_PROTOCOL', 'ERR_UNEXPECTED_EOF']);

interface DecodeRun {
  frames: Buffer[];
  outcome: StreamOutcome;
  error: unknown;
  maxBuffered: number;
}

/** Feeds `chunks` to a decoder, then `end()`; records what came out and how it ended. */
function decodeIncrementally(decoder: FrameDecoder, chunks: readonly Buffer[]): DecodeRun {
  const frames: Buffer[] = [];
  // Views are kept as handed out: the decoder promises never to write into them afterwards.
  const onFrame = (frame: Buffer): void => {
    frames.push(frame);
  };
  let maxBuffered = 0;
  try {
    for (const chunk of chunks) {
      decoder.push(chunk, onFrame);
      maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes);
    }
    decoder.end();
  } catch (error) {
    return { frames, outcome: codeOf(error), error, maxBuffered };
  }
  return { frames, outcome: 'ok', error: undefined, maxBuffered };
}

function codeOf(error: unknown): StreamOutcome {
  // Anything but a typed ProtoError with a documented code fails the property right here.
  expect(error).toBeInstanceOf(ProtoError);
  const code = (error as ProtoError).code;
  expect(DECODER_CODES.has(code)).toBe(true);
  return code as StreamOutcome;
}

const prefixArb = fc.constantFrom(...PREFIXES);

/** A limit small enough that random headers sometimes fit, sometimes don't. */
function limitArb(prefix: PrefixName): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min: 1, max: Math.min(300, MAX_LENGTH[prefix]) }), fc.constant(Math.min(16 * 1024 * 1024, MAX_LENGTH[prefix])));
}

/** Random cut points for a stream of `length` bytes: often none, sometimes every byte. */
function cutsArb(length: number): fc.Arbitrary<number[]> {
  return fc.oneof(
    fc.array(fc.nat(length), { maxLength: 12 }),
    fc.constant(Array.from({ length }, (_, i) => i)),
  );
}

type Mutation =
  | { op: 'flip'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; count: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(stream: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = stream;
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
    switch (m.op) {
      case 'flip':
        if (at < bytes.length) {
          bytes = Buffer.from(bytes);
          bytes[at] = m.byte;
        }
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'duplicate':
        bytes = Buffer.concat([bytes.subarray(0, at + m.count), bytes.subarray(at)]);
        break;
    }
  }
  return Buffer.from(bytes);
}

const payloadsArb = fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 12, size: 'medium' });

const counters: FuzzCounter[] = [];
function counter(name: string): FuzzCounter {
  const c = new FuzzCounter(name);
  counters.push(c);
  return c;
}
afterAll(() => {
  for (const c of counters) c.report();
});

describe('fuzz: FrameDecoder against the reference model', () => {
  it('random bytes at random split points decode exactly like the model, or fail with its typed error', () => {
    const stats = counter('framing/decoder/random-bytes');
    fc.assert(
      fc.property(
        prefixArb.chain((prefix) =>
          fc.tuple(
            fc.constant(prefix),
            limitArb(prefix),
            fc.uint8Array({ maxLength: 400, size: 'medium' }).chain((bytes) => fc.tuple(fc.constant(bytes), cutsArb(bytes.length))),
          ),
        ),
        ([prefix, maxFrameBytes, [bytes, cuts]]) => {
          stats.runs++;
          stats.add('bytes', bytes.length);
          const expected = referenceDecode(prefix, bytes, maxFrameBytes);
          const run = decodeIncrementally(new FrameDecoder({ lengthPrefix: prefix, maxFrameBytes }), splitAt(bytes, cuts));
          stats.add(run.outcome);
          expect(run.outcome).toBe(expected.outcome);
          expect(run.frames).toEqual(expected.frames);
          expect(run.maxBuffered).toBeLessThanOrEqual(maxFrameBytes + MAX_HEADER_BYTES[prefix]);
        },
      ),
      fuzzParams(1500),
    );
  });

  it('mutated valid streams (flips, inserts, deletes, truncation, duplication) decode like the model', () => {
    const stats = counter('framing/decoder/mutated-streams');
    fc.assert(
      fc.property(
        prefixArb,
        payloadsArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (prefix, payloads, mutations, rawCuts, tightLimit) => {
          stats.runs++;
          const max = Math.min(MAX_LENGTH[prefix], tightLimit ? 40 : 16 * 1024 * 1024);
          const stream = mutate(Buffer.concat(payloads.map((p) => referenceEncode(prefix, p))), mutations);
          stats.add('bytes', stream.length);
          const cuts = rawCuts.map((c) => (stream.length === 0 ? 0 : c % stream.length));
          const expected = referenceDecode(prefix, stream, max);
          const run = decodeIncrementally(new FrameDecoder({ lengthPrefix: prefix, maxFrameBytes: max }), splitAt(stream, cuts));
          stats.add(run.outcome);
          expect(run.outcome).toBe(expected.outcome);
          expect(run.frames).toEqual(expected.frames);
          expect(run.maxBuffered).toBeLessThanOrEqual(max + MAX_HEADER_BYTES[prefix]);
        },
      ),
      fuzzParams(1500),
    );
  });

  it('a failed decoder stays failed: every later push() and end() throws the same typed error', () => {
    fc.assert(
      fc.property(prefixArb, fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ maxLength: 16 }), (prefix, bytes, more) => {
        const decoder = new FrameDecoder({ lengthPrefix: prefix, maxFrameBytes: 8 });
        const run = decodeIncrementally(decoder, [Buffer.from(bytes)]);
        if (run.outcome === 'ok') return;
        expect(() => decoder.push(Buffer.from(more), () => expect.unreachable('no frame after failure'))).toThrow(run.error as Error);
        expect(() => decoder.end()).toThrow(run.error as Error);
      }),
      fuzzParams(500),
    );
  });
});

describe('fuzz: encoder round trips', () => {
  it('encodeFrame writes the wire bytes of the model, and any split of the stream decodes back to the payloads', () => {
    const stats = counter('framing/encoder/round-trip');
    fc.assert(
      fc.property(
        prefixArb,
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (prefix, payloads, rawCuts) => {
          stats.runs++;
          const fitting = payloads.filter((p) => p.length <= MAX_LENGTH[prefix]);
          const maxFrameBytes = Math.max(1, ...fitting.map((p) => p.length));
          const encoded = fitting.map((p) => encodeFrame(p, { lengthPrefix: prefix, maxFrameBytes }));
          encoded.forEach((frame, i) => {
            expect(frame).toEqual(referenceEncode(prefix, fitting[i]!));
            const header = encodeHeader(fitting[i]!.length, { lengthPrefix: prefix, maxFrameBytes });
            expect(Buffer.concat([header, fitting[i]!])).toEqual(frame);
          });
          const stream = Buffer.concat(encoded);
          stats.add('frames', fitting.length);
          const cuts = rawCuts.map((c) => (stream.length === 0 ? 0 : c % stream.length));
          const run = decodeIncrementally(new FrameDecoder({ lengthPrefix: prefix, maxFrameBytes }), splitAt(stream, cuts));
          expect(run.outcome).toBe('ok');
          expect(run.frames).toEqual(fitting.map((p) => Buffer.from(p)));
        },
      ),
      fuzzParams(1000),
    );
  });

  it('an array of parts encodes as one frame equal to their concatenation', () => {
    fc.assert(
      fc.property(prefixArb, fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 5 }), (prefix, parts) => {
        const joined = Buffer.concat(parts);
        fc.pre(joined.length <= MAX_LENGTH[prefix]);
        expect(encodeFrame(parts, { lengthPrefix: prefix })).toEqual(referenceEncode(prefix, joined));
      }),
      fuzzParams(500),
    );
  });

  it('a payload over maxFrameBytes is refused with ERR_FRAME_TOO_LARGE and nothing is encoded', () => {
    fc.assert(
      fc.property(prefixArb, fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 50 }), (prefix, max, over) => {
        const limit = Math.min(max, MAX_LENGTH[prefix]);
        const payload = new Uint8Array(limit + over);
        expect(() => encodeFrame(payload, { lengthPrefix: prefix, maxFrameBytes: limit })).toThrow(FrameTooLargeError);
        expect(() => encodeHeader(payload.length, { lengthPrefix: prefix, maxFrameBytes: limit })).toThrow(FrameTooLargeError);
      }),
      fuzzParams(300),
    );
  });
});

/** One scripted answer of a misbehaving custom codec's decode(). */
type CodecAnswer = { throws: true } | { throws: false; size: number; length: number };

/** Header sizes: integers in and out of range, fractions, and non-finite values. */
const weirdSize = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) },
  fc.integer({ min: -3, max: 8 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0.5, 2.5, Number.MIN_VALUE, 2 ** 32, 2 ** 53),
  fc.double({ min: -2, max: 6, noNaN: true }),
);
/** Decoded lengths: anything a number can be. */
const weirdLength = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 80 }) },
  fc.integer({ min: -3, max: 100 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 0.5, 2.5, 2 ** 32, 2 ** 53, Number.MAX_VALUE),
  fc.double({ min: -10, max: 1e6, noNaN: false }),
);

describe('fuzz: a misbehaving custom length-prefix codec', () => {
  it('invalid header sizes and lengths end in ERR_PROTOCOL or ERR_FRAME_TOO_LARGE, never another exception', () => {
    const stats = counter('framing/decoder/custom-codec');
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { weight: 1, arbitrary: fc.constant<CodecAnswer>({ throws: true }) },
            { weight: 8, arbitrary: fc.record({ throws: fc.constant(false as const), size: weirdSize, length: weirdLength }) },
          ),
          { minLength: 1, maxLength: 20 },
        ),
        fc.integer({ min: 1, max: 8 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.nat(200), { maxLength: 8 }),
        (answers, maxHeaderBytes, bytes, cuts) => {
          stats.runs++;
          let call = 0;
          const codec: LengthPrefixCodec = {
            maxHeaderBytes,
            encodedLength: () => 1,
            encode: () => 1,
            decode(_source, _offset, _end, out) {
              const answer = answers[call++ % answers.length]!;
              if (answer.throws) throw new ProtocolError('scripted codec failure');
              out.length = answer.length;
              return answer.size;
            },
          };
          const maxFrameBytes = 64;
          const decoder = new FrameDecoder({ lengthPrefix: codec, maxFrameBytes });
          const frames: Buffer[] = [];
          let failure: unknown;
          try {
            for (const chunk of splitAt(bytes, cuts)) {
              decoder.push(chunk, (frame) => frames.push(frame));
              expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxFrameBytes + maxHeaderBytes);
            }
          } catch (error) {
            failure = error;
          }
          if (failure !== undefined) {
            stats.add('failed');
            expect(failure).toBeInstanceOf(ProtoError);
            expect(['ERR_PROTOCOL', 'ERR_FRAME_TOO_LARGE']).toContain((failure as ProtoError).code);
          }
          for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(maxFrameBytes);
          stats.add('frames', frames.length);
        },
      ),
      fuzzParams(1500),
    );
  });

  // Regression (found by the property above): an untrusted codec returning a non-integer header
  // size (0.5, Number.MIN_VALUE) used to yield empty frames forever instead of ERR_PROTOCOL.
  it('a non-integer header size from a custom codec is ERR_PROTOCOL', () => {
    for (const size of [0.5, Number.MIN_VALUE]) {
      const codec: LengthPrefixCodec = {
        maxHeaderBytes: 4,
        encodedLength: () => 1,
        encode: () => 1,
        decode(_source, _offset, _end, out) {
          out.length = 0;
          return size;
        },
      };
      const decoder = new FrameDecoder({ lengthPrefix: codec, maxFrameBytes: 64 });
      let frames = 0;
      const onFrame = (): void => {
        // Bound the runaway loop so the test fails instead of exhausting memory.
        if (++frames > 1000) throw new Error(`decoder emitted ${String(frames)} frames from 3 bytes`);
      };
      expect(() => decoder.push(Buffer.from([1, 2, 3]), onFrame)).toThrow(ProtocolError);
      expect(frames).toBe(0);
    }
  });
});

describe('memory is never allocated from an announced length alone', () => {
  it('a header announcing 16 MiB followed by a trickle of bytes costs memory for the trickle only', () => {
    const decoder = new FrameDecoder();
    const header = Buffer.from([0x01, 0x00, 0x00, 0x00]); // 16 MiB, the default limit
    const before = process.memoryUsage().arrayBuffers;
    decoder.push(header, () => expect.unreachable('incomplete frame'));
    for (let i = 0; i < 1000; i++) decoder.push(Buffer.from([i & 0xff]), () => expect.unreachable('incomplete frame'));
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(decoder.bufferedBytes).toBe(1000);
    // 1000 payload bytes received: anything near the announced 16 MiB would be a pre-allocation.
    expect(grown).toBeLessThan(1024 * 1024);
  });
});
