import { afterEach, describe, expect, it, vi } from 'vitest';
import { GC_HINT_FLAG, type GcHintHost, giveGcHint } from '../src/gc-hint.js';

function host(cpus: number, disabled = false): GcHintHost & { flags: string[] } {
  const flags: string[] = [];
  return { cpus, disabled, flags, setFlags: (f) => void flags.push(f) };
}

describe('giveGcHint (V8 hint for large-frame receivers on one CPU)', () => {
  afterEach(() => {
    vi.doUnmock('../src/gc-hint.js');
    vi.resetModules();
  });

  it('turns concurrent ArrayBuffer sweeping off on a single CPU', () => {
    const one = host(1);
    expect(giveGcHint(one)).toBe(true);
    expect(one.flags).toEqual([GC_HINT_FLAG]);
    expect(GC_HINT_FLAG).toBe('--no-concurrent-array-buffer-sweeping');
  });

  it('does nothing with more CPUs, or when PROTO_FRAMING_GC_HINT=0', () => {
    const two = host(2);
    const off = host(1, true);
    expect(giveGcHint(two)).toBe(false);
    expect(giveGcHint(off)).toBe(false);
    expect([...two.flags, ...off.flags]).toEqual([]);
  });

  it('is given once, at the first large frame', async () => {
    const give = vi.fn(() => true);
    vi.doMock('../src/gc-hint.js', () => ({ giveGcHint: give }));
    vi.resetModules();
    const { allocFrame, HINT_MIN_BYTES } = await import('../src/heap-hint.js');
    allocFrame(1024);
    expect(give).not.toHaveBeenCalled();
    allocFrame(HINT_MIN_BYTES);
    allocFrame(2 * HINT_MIN_BYTES);
    expect(give).toHaveBeenCalledTimes(1);
  });
});
