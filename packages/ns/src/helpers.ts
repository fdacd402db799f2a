// Small helpers shared by ns's files (until @proto/framing/internal provides them).

/** `value` as an Error (a thrown non-Error is wrapped). */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** A promise with its resolve function. */
export interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
