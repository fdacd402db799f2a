// A pending promise and its settle functions without a closure per promise: the executor is one
// module-level function that leaves them here, to be read right after `pendingPromise()`.

let lastResolve: (value: unknown) => void = noop;
let lastReject: (reason: Error) => void = noop;
function noop(): void {}
function capture(resolve: (value: unknown) => void, reject: (reason: Error) => void): void {
  lastResolve = resolve;
  lastReject = reject;
}

/** A new pending promise; read its functions with {@link capturedResolve}/{@link capturedReject} at once. */
export function pendingPromise(): Promise<unknown> {
  return new Promise(capture);
}

/** The resolve function of the promise `pendingPromise()` made last. */
export function capturedResolve(): (value: unknown) => void {
  return lastResolve;
}

/** The reject function of the promise `pendingPromise()` made last. */
export function capturedReject(): (reason: Error) => void {
  return lastReject;
}
