// Private entry point `@proto/ns/internal`: the shared helpers of `@proto/framing/internal` for the
// layers above ns (rpc imports ns only, never framing). Not part of the public API: anything here
// may change with any release, in step with the packages that use it. Users import `@proto/ns`.

export { BoundedCache, deferred, emitErrorIfListened, integerOption, partBytes, payloadBytes, toError } from '@proto/framing/internal';

export type { Deferred, ErrorEmitter } from '@proto/framing/internal';
