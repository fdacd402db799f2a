import { once } from 'node:events';
import type { Writable } from 'node:stream';
import amp from 'amp';
import frameStream from 'frame-stream';
import { decode as itLpDecode } from 'it-length-prefixed';
import lps from 'length-prefixed-stream';
import type { DecodeContender } from './contender.js';
import { countFrame } from './counter.js';

/** Feed a writable stream the way a pipe would: respect write() === false, then wait for the end. */
async function feed(stream: Writable, chunks: readonly Buffer[], endEvent: 'end' | 'finish'): Promise<void> {
  const done = once(stream, endEvent);
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await done;
}

function onAmpMessage(message: Buffer): void {
  // What axon does with each message: split it into its arguments.
  const args = amp.decode(message);
  countFrame(args[0]!);
}

export const contenders: DecodeContender[] = [
  {
    name: 'length-prefixed-stream',
    format: 'varint',
    async decode(chunks) {
      const decoder = lps.decode();
      decoder.on('data', countFrame);
      await feed(decoder, chunks, 'end');
    },
  },
  {
    name: 'frame-stream',
    format: 'uint32be',
    async decode(chunks) {
      const decoder = frameStream.decode();
      decoder.on('data', countFrame);
      await feed(decoder, chunks, 'end');
    },
  },
  {
    name: 'amp',
    format: 'amp',
    async decode(chunks) {
      const parser = new amp.Stream();
      parser.on('data', onAmpMessage);
      await feed(parser, chunks, 'finish');
    },
  },
  {
    name: 'it-length-prefixed',
    format: 'varint',
    decode(chunks) {
      // Its synchronous decoder (an Iterable source gives a sync generator): no async hop per chunk.
      // It yields Uint8ArrayLists (views of the chunks a frame spans, no copy); subarray() makes the
      // contiguous bytes every other contender delivers (one copy for a frame spanning chunks).
      for (const frame of itLpDecode(chunks)) countFrame(frame.subarray());
    },
  },
];
