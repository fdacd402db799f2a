import { describe, expect, it } from 'vitest';
import { eventNameOf, MAX_EVENT_NAME_BYTES, MAX_EVENT_SEGMENT_BYTES, patternSegments } from '../src/event-name.js';

const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARG' });

describe('event names', () => {
  it('joins segments with ::', () => {
    expect(eventNameOf(['a', 'b', 'c'])).toBe('a::b::c');
    expect(eventNameOf('a::b')).toBe('a::b');
  });

  it.each([
    ['empty string', ''],
    ['empty segment', 'a::::b'],
    ['trailing delimiter', 'a::'],
    ['single colon edge', 'a:::b'],
    ['wildcard *', 'a::*'],
    ['wildcard **', '**'],
  ])('rejects %s', (_label, name) => {
    expect(() => eventNameOf(name)).toThrow(invalid);
  });

  it('rejects bad arrays: empty, empty segment, segment containing ::, non-strings', () => {
    expect(() => eventNameOf([])).toThrow(invalid);
    expect(() => eventNameOf(['a', ''])).toThrow(invalid);
    expect(() => eventNameOf(['a::b'])).toThrow(invalid);
    expect(() => eventNameOf(['a', 1 as unknown as string])).toThrow(invalid);
    expect(() => eventNameOf(42 as unknown as string)).toThrow(invalid);
  });


  it('rejects segments and names that are too long (UTF-8 bytes)', () => {
    expect(eventNameOf('x'.repeat(MAX_EVENT_SEGMENT_BYTES))).toHaveLength(MAX_EVENT_SEGMENT_BYTES);
    expect(() => eventNameOf('x'.repeat(MAX_EVENT_SEGMENT_BYTES + 1))).toThrow(invalid);
    expect(() => eventNameOf('é'.repeat(MAX_EVENT_SEGMENT_BYTES / 2 + 1))).toThrow(invalid);
    const segments = Array.from({ length: 10 }, () => 'y'.repeat(120));
    expect(segments.join('::').length).toBeGreaterThan(MAX_EVENT_NAME_BYTES);
    expect(() => eventNameOf(segments)).toThrow(invalid);
  });

  it('patterns allow wildcards, and validate the rest', () => {
    expect(patternSegments('a::*')).toEqual(['a', '*']);
    expect(patternSegments(['**'])).toEqual(['**']);
    expect(() => patternSegments('a::')).toThrow(invalid);
  });
});
