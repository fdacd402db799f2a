// Private entry point `@proto/framing/internal`: helpers shared by the @proto packages (ns, rpc)
// and hooks into framing objects that only a layer owning them should use. Not part of the public
// API: anything here may change with any release, in step with the packages that use it. Users
// import `@proto/framing`.

export { BoundedCache } from './bounded-cache.js';
export { deferred } from './deferred.js';
export { emitErrorIfListened } from './emit-error.js';
export { framedCounter, setFrameHandler } from './framed-socket.js';
export { integerOption } from './integer-option.js';
export { partBytes, payloadBytes } from './part-bytes.js';
export { toError } from './to-error.js';

export type { Deferred } from './deferred.js';
export type { FrameHandler } from './decoder.js';
export type { ErrorEmitter } from './emit-error.js';
