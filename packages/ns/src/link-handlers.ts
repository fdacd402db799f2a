// Listeners on a link's FramedSocket. They are module-level functions that find their NsSocket
// through a property of the framed socket (the ws pattern): no closure per connection or message.
import type { FramedSocket } from '@proto/framing';
import { EVENT_DELIMITER } from './event-name.js';
import { type AnySocket, kOnFrame, kOnLinkClose, kOnLinkError } from './internal.js';

const kOwner = Symbol('nsSocket');

/** A framed socket carrying a link of an NsSocket. */
export interface OwnedFramed extends FramedSocket {
  [kOwner]: AnySocket;
}

/** The NsSocket that owns a framed socket, if any. */
export function ownerOf(framed: FramedSocket): AnySocket | undefined {
  return (framed as unknown as Partial<OwnedFramed>)[kOwner];
}

function framedOnFrame(this: OwnedFramed, frame: Buffer): void {
  this[kOwner][kOnFrame](this, frame);
}
function framedOnError(this: OwnedFramed, error: Error): void {
  this[kOwner][kOnLinkError](this, error);
}
function framedOnClose(this: OwnedFramed): void {
  this[kOwner][kOnLinkClose](this);
}
function framedOnPause(this: OwnedFramed): void {
  this[kOwner].emit('pause');
}
function framedOnResume(this: OwnedFramed): void {
  this[kOwner].emit('resume');
}
function framedOnTimeout(this: OwnedFramed): void {
  this[kOwner].emit('idle');
}

/**
 * Makes `owner` the NsSocket of `framed` and listens to it. An accepted socket hears of its errors
 * from the server (framing forwards every one as clientError), so it skips the error listener: a
 * second listener for one event costs an array per idle connection.
 */
export function attachLink(framed: FramedSocket, owner: AnySocket, listenForErrors: boolean, listenForFlow: boolean): OwnedFramed {
  const owned = framed as OwnedFramed;
  owned[kOwner] = owner;
  owned.on('frame', framedOnFrame);
  if (listenForErrors) owned.on('error', framedOnError);
  owned.on('close', framedOnClose);
  if (listenForFlow) listenForFlowEvents(owned);
  return owned;
}

/**
 * Whether framing still takes sends on this link. It refuses them as soon as the link starts ending
 * (our `end()`, the peer's end, `destroy()`, the framing server closing), which can be long before
 * `close` (a flush to a slow reader); the stream's own flags say when, with nothing kept per link.
 */
export function linkWritable(framed: FramedSocket): boolean {
  const stream = framed.stream;
  return !(stream.readableEnded || stream.writableEnded || stream.destroyed);
}

/** Stops listening to a closed link (the error listener stays: a stray late error must not throw). */
export function detachLink(framed: OwnedFramed): void {
  framed.removeListener('frame', framedOnFrame);
  framed.removeListener('close', framedOnClose);
  framed.removeListener('pause', framedOnPause);
  framed.removeListener('resume', framedOnResume);
  framed.removeListener('timeout', framedOnTimeout);
}

/**
 * pause, resume and timeout are wired only once someone listens for them on the NsSocket: each
 * listener on a framed socket costs about 100 bytes per idle connection.
 */
export function listenForFlowEvents(framed: OwnedFramed): void {
  framed.on('pause', framedOnPause);
  framed.on('resume', framedOnResume);
  framed.on('timeout', framedOnTimeout);
}

/** Whether a listener for `type` may want `pause`, `resume` or `idle` (by name, a top-level wildcard, or onAny). */
export function wantsFlowEvents(type: unknown): boolean {
  const first = typeof type === 'string' ? type.split(EVENT_DELIMITER, 1)[0] : Array.isArray(type) ? type[0] : '*';
  return first === 'pause' || first === 'resume' || first === 'idle' || first === '*' || first === '**';
}
