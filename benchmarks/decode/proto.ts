import { FrameDecoder } from '@proto/framing';
import type { DecodeContender } from './contender.js';
import { countFrame } from './counter.js';

function decodeWith(decoder: FrameDecoder, chunks: readonly Buffer[]): void {
  for (const chunk of chunks) decoder.push(chunk, countFrame);
  decoder.end();
}

export const contenders: DecodeContender[] = [
  {
    name: 'FrameDecoder',
    format: 'uint32be',
    decode(chunks) {
      decodeWith(new FrameDecoder(), chunks);
    },
  },
  {
    name: 'FrameDecoder (varint)',
    format: 'varint',
    decode(chunks) {
      decodeWith(new FrameDecoder({ lengthPrefix: 'varint' }), chunks);
    },
  },
];
