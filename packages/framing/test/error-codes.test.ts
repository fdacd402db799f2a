import { describe, expect, it } from 'vitest';
import { FramingErrorCode, ProtocolError } from '../src/index.js';

describe('FramingErrorCode', () => {
  it('cannot be changed at run time, and the classes carry its codes', () => {
    expect(Object.isFrozen(FramingErrorCode)).toBe(true);
    expect(() => {
      (FramingErrorCode as Record<string, string>).PROTOCOL = 'changed';
    }).toThrow(TypeError);
    expect(new ProtocolError('x').code).toBe(FramingErrorCode.PROTOCOL);
    expect(FramingErrorCode.PROTOCOL).toBe('ERR_PROTOCOL');
  });
});
