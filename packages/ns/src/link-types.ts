// The types a link is built from: the socket it serves, the extension hooks as it calls them, how it
// starts. Kept apart from link.ts so the extension-opening and session code name them without
// importing the link itself.
import type { EventEmitter2 } from 'eventemitter2';
import type { NsExtensionHooks, NsExtensionSocket } from './extension.js';
import type { LinkResume } from './link-resume.js';

/** The socket a link belongs to: an emitter the extension may drive. */
export type LinkSocket = EventEmitter2 & NsExtensionSocket;

/** The extension hooks as a link calls them (with its socket). */
export type LinkExtension = NsExtensionHooks<LinkSocket>;

/** The deadline for the peer's hello: a client's `connectTimeoutMs` (what is left of it), a server's `helloTimeoutMs`. */
export interface HelloDeadline {
  /** Milliseconds from now. */
  readonly leftMs: number;
  /** The option's value, and its name (for the error message). */
  readonly timeoutMs: number;
  readonly option: string;
}

/** How a link starts. */
export interface LinkSettings {
  /** An accepted link (framing reports its errors to the server). */
  readonly accepted: boolean;
  /** Wire pause/resume/timeout at once (someone listens for them). */
  readonly flowEvents: boolean;
  /** The deadline for the peer's hello. */
  readonly hello: HelloDeadline | undefined;
  /** The socket has `resume` enabled: this link's session state. */
  readonly resume?: LinkResume | undefined;
  /** The link continues another link's transport, past its hello and handshake (a resumed session on the server). */
  readonly adopted?: boolean | undefined;
}
