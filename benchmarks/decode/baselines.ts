import { MinimalDecoder } from '../lib/minimal-decoder.js';
import type { DecodeContender } from './contender.js';
import { countFrame } from './counter.js';

let target = Buffer.alloc(0);

export const contenders: DecodeContender[] = [
  {
    name: 'minimal uint32be',
    format: 'uint32be',
    decode(chunks) {
      const decoder = new MinimalDecoder();
      for (const chunk of chunks) decoder.push(chunk, countFrame);
      if (decoder.pendingBytes !== 0) throw new Error('stream ended mid-frame');
    },
  },
  {
    name: 'Buffer.copy (memcpy)',
    format: 'uint32be',
    countsFrames: false,
    decode(chunks) {
      let total = 0;
      for (const chunk of chunks) total += chunk.length;
      // Allocated (and zero-filled, so touched) once, outside the timed passes after the first.
      if (target.length !== total) target = Buffer.alloc(total);
      let offset = 0;
      for (const chunk of chunks) offset += chunk.copy(target, offset);
      if (offset !== total) throw new Error('short copy');
    },
  },
];
