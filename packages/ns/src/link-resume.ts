import { randomBytes } from 'node:crypto';
import { ProtocolError } from '@proto/framing';
import { HELLO_MESSAGE } from './message.js';
import type { Session } from './session.js';
import { HELLO_NONCE_BYTES, helloNonce, helloResumes, resumeHello, type SessionCounts } from './session-messages.js';

/**
 * What one link of a resume-enabled socket knows about its session (PROTOCOL.md, "Resumable
 * sessions"): whether the peer resumes too, the nonce of this link, the opening exchange, and, once
 * the session runs on the link, the session itself (sequenced messages received are counted there).
 */
export class LinkResume {
  /** This side accepted the link (the server). */
  readonly accepted: boolean;
  /** Extension types that are link messages (see NsExtensionHooks.linkMessageTypes). */
  readonly linkTypes: ReadonlySet<number> | undefined;
  /** The server's nonce of this link: its own (server), or read from its HELLO (client). */
  nonce: Buffer | undefined;
  /** The peer's HELLO announced resume: the session exchange runs before the link opens. */
  peerResumes = false;
  /** This side is ready to open; only the session exchange is left (server: waiting for SESSION_OPEN). */
  ready = false;
  /** A SESSION_OPEN that arrived before this side was ready (server). */
  pendingOpen: Buffer | undefined;
  /** The peer's counts from the opening exchange: the link opens with the session once set. */
  counts: SessionCounts | undefined;
  /** The exchange resumed a session (rather than starting one). */
  resumed = false;
  /** The session while it runs on this link. */
  live: Session | undefined;
  /** The peer sent SESSION_END. */
  peerEnded = false;
  /** Client: bounds the wait for SESSION_ACCEPT. */
  timer: NodeJS.Timeout | undefined;

  constructor(accepted: boolean, linkTypes: ReadonlySet<number> | undefined) {
    this.accepted = accepted;
    this.linkTypes = linkTypes;
    if (accepted) this.nonce = randomBytes(HELLO_NONCE_BYTES);
  }

  /** This side's HELLO: flag 0x01, and the nonce on the server. */
  hello(): Buffer {
    return resumeHello(HELLO_MESSAGE, this.accepted ? this.nonce : undefined);
  }

  /**
   * The peer's (checked) HELLO arrived.
   * @throws ProtocolError for a server HELLO announcing resume without a nonce.
   */
  onHello(hello: Buffer): void {
    if (!helloResumes(hello)) return;
    this.peerResumes = true;
    if (this.accepted) return;
    const nonce = helloNonce(hello);
    if (nonce === undefined) throw new ProtocolError('the server announced resume without a nonce in its hello');
    this.nonce = nonce;
  }

  /** Whether an extension message of `type` is part of the session (numbered), not of this link. */
  sequenced(type: number): boolean {
    return this.linkTypes === undefined || !this.linkTypes.has(type);
  }

  /** The link closed: its timer stops and the session no longer runs on it. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.live = undefined;
  }
}
