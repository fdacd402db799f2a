import type { HelloDeadline, LinkExtension } from './link-types.js';
import type { ResolvedResumeOptions } from './resume-options.js';
import type { SessionStore } from './session-store.js';

/**
 * What an accepted NsSocket needs from the server that accepted it (server.ts implements it, so
 * ns-socket.ts does not import server.ts). The sockets passed are the server's own.
 */
export interface AcceptingServer {
  socketOpened(socket: object): void;
  socketClosed(socket: object): void;
  /** One of its sockets wrote to its link: the server's running total of buffered bytes is updated (maxTotalBufferedBytes). */
  sent(socket: object): void;
  /** The sessions of a server with `resume` (its sockets). */
  readonly sessions: SessionStore<object> | undefined;
}

/** How a server hands a new connection to its socket. */
export interface Acceptance {
  readonly server: AcceptingServer;
  /** The socket's extension, from the server's factory. */
  readonly extension: LinkExtension | undefined;
  /** The factory threw: the link is destroyed with this. */
  readonly failure: Error | undefined;
  /** The server's `resume` settings. */
  readonly resume: ResolvedResumeOptions | undefined;
  /** The deadline for the client's hello (`helloTimeoutMs`; none when 0). */
  readonly hello: HelloDeadline | undefined;
}
