// Private entry point `@proto/rpc/internal`: rpc's building blocks for the layers above it
// (`@proto/cluster` imports rpc only, so it reuses these instead of writing them again). Not part
// of the public API: anything here may change with any release, in step with the packages that
// use it. Users import `@proto/rpc`.

export { capturedReject, capturedResolve, pendingPromise } from './captured-promise.js';
export { DeadlineQueue } from './deadline-queue.js';
export { toError } from '@proto/ns/internal';
export { isItemSource, Pump } from './stream-pump.js';

export type { Deadlined, DueList } from './deadline-queue.js';
export type { ItemSource, PumpSink } from './stream-pump.js';
