// A link's listeners on its FramedSocket: module-level functions that find their link through one
// property of the framed socket (the ws pattern: no closure per connection or message). Frames
// themselves bypass events (framing's frame handler hook, set by the link).
import type { FramedSocket } from '@proto/framing';

/** What the listeners call: a link (link.ts), seen through what they need of it. */
export interface ListeningLink {
  readonly socket: { emit(event: string): unknown };
  failed(error: Error): unknown;
  closed(): void;
}

const kLink = Symbol('nsLink');

interface LinkedFramed extends FramedSocket {
  [kLink]: ListeningLink;
}

function framedOnError(this: LinkedFramed, error: Error): void {
  this[kLink].failed(error);
}
function framedOnClose(this: LinkedFramed): void {
  this[kLink].closed();
}
function framedOnPause(this: LinkedFramed): void {
  this[kLink].socket.emit('pause');
}
function framedOnResume(this: LinkedFramed): void {
  this[kLink].socket.emit('resume');
}
function framedOnTimeout(this: LinkedFramed): void {
  this[kLink].socket.emit('idle');
}

/**
 * Makes `link` the link of `framed` and listens to it. An accepted link hears of its errors from the
 * server (framing forwards every one as clientError), so it skips the error listener: a second
 * listener for one event costs an array per idle connection.
 */
export function listen(framed: FramedSocket, link: ListeningLink, errors: boolean, flowEvents: boolean): void {
  const linked = framed as LinkedFramed;
  linked[kLink] = link;
  if (errors) linked.on('error', framedOnError);
  linked.on('close', framedOnClose);
  if (flowEvents) listenForFlowEvents(framed);
}

/** pause, resume and timeout are wired only once someone listens for them: each listener on a framed socket costs about 100 bytes per idle connection. */
export function listenForFlowEvents(framed: FramedSocket): void {
  framed.on('pause', framedOnPause);
  framed.on('resume', framedOnResume);
  framed.on('timeout', framedOnTimeout);
}

/**
 * Stops listening to a link's transport. The error listener stays on a closed link (a stray late
 * error must not throw); `errorsToo` removes it when another link takes the transport over.
 */
export function stopListening(framed: FramedSocket, errorsToo: boolean): void {
  if (errorsToo) framed.removeListener('error', framedOnError);
  framed.removeListener('close', framedOnClose);
  framed.removeListener('pause', framedOnPause);
  framed.removeListener('resume', framedOnResume);
  framed.removeListener('timeout', framedOnTimeout);
}

/** The link a framed socket carries, if any. */
export function listeningLink(framed: FramedSocket): ListeningLink | undefined {
  const link: ListeningLink | undefined = (framed as LinkedFramed)[kLink];
  return link;
}
