/** Anything that counts its `error` listeners and emits `error` (Node's EventEmitter, EventEmitter2). */
export interface ErrorEmitter<Args extends unknown[]> {
  listenerCount(eventName: 'error'): number;
  emit(eventName: 'error', ...args: Args): boolean;
}

/**
 * Emits `error` only if someone listens, so an error nobody asked about never becomes an uncaught
 * exception (Node's emitter throws an unobserved `error`).
 *
 * @returns whether it was emitted: on `false`, log it (`util.debuglog`) or warn, as fits.
 */
export function emitErrorIfListened<Args extends unknown[]>(emitter: ErrorEmitter<Args>, ...args: Args): boolean {
  if (emitter.listenerCount('error') === 0) return false;
  emitter.emit('error', ...args);
  return true;
}
