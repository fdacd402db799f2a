import { afterEach, describe, expect, it, vi } from 'vitest';

// A fresh copy of the module per test: the hint is once per process (per module instance).
async function freshHeapHint() {
  vi.resetModules();
  return import('../src/heap-hint.js');
}

describe('allocFrame (the allocator hint for large frames)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it.runIf(process.platform === 'linux')('releases one 31 MiB block before the first large frame only', async () => {
    const { allocFrame, HINT_MIN_BYTES } = await freshHeapHint();
    const slow = vi.spyOn(Buffer, 'allocUnsafeSlow');
    expect(allocFrame(1024).length).toBe(1024);
    expect(slow).not.toHaveBeenCalled();
    expect(allocFrame(HINT_MIN_BYTES).length).toBe(HINT_MIN_BYTES);
    expect(slow).toHaveBeenCalledTimes(1);
    expect(slow).toHaveBeenCalledWith(31 * 1024 * 1024);
    allocFrame(4 * HINT_MIN_BYTES);
    expect(slow).toHaveBeenCalledTimes(1);
  });

  it('PROTO_FRAMING_HEAP_HINT=0 leaves the allocator alone', async () => {
    vi.stubEnv('PROTO_FRAMING_HEAP_HINT', '0');
    const { allocFrame, HINT_MIN_BYTES } = await freshHeapHint();
    const slow = vi.spyOn(Buffer, 'allocUnsafeSlow');
    expect(allocFrame(2 * HINT_MIN_BYTES).length).toBe(2 * HINT_MIN_BYTES);
    expect(slow).not.toHaveBeenCalled();
  });
});
