import { afterEach, beforeEach, expect } from 'vitest';

/**
 * Records every `uncaughtException` and `unhandledRejection` of the process while installed, so a test
 * can assert that bad input never escapes as an uncaught error. Call `dispose()` in afterEach.
 */
export interface UncaughtWatcher {
  /** Errors seen so far (uncaught exceptions and unhandled rejections). */
  readonly errors: unknown[];
  /** Removes the listeners. */
  dispose(): void;
}

export function watchUncaught(): UncaughtWatcher {
  const errors: unknown[] = [];
  const onError = (error: unknown): void => {
    errors.push(error);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    dispose() {
      process.removeListener('uncaughtException', onError);
      process.removeListener('unhandledRejection', onError);
    },
  };
}

/**
 * Registers this file's hooks: every test runs under {@link watchUncaught}; afterEach runs
 * `cleanup`, then fails the test if any error escaped as uncaught (and runs `alsoCheck`, if given).
 */
export function failOnUncaught(cleanup: { run(): Promise<void> }, alsoCheck?: () => void): void {
  let watcher: UncaughtWatcher | undefined;
  beforeEach(() => {
    watcher = watchUncaught();
  });
  afterEach(async () => {
    await cleanup.run();
    watcher?.dispose();
    expect(watcher?.errors).toEqual([]);
    alsoCheck?.();
  });
}
