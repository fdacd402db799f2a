/** Counters of one node's cluster traffic, updated in place (read them any time). */
export interface ClusterStats {
  /** Messages this node published (broadcasts, routed calls, answers, heartbeats). */
  messagesOut: number;
  /** Messages from other nodes it handled. */
  messagesIn: number;
  /** Messages on its channels that could not be decoded: ignored. */
  malformed: number;
  /**
   * Messages of another cluster (another `prefix`), or from a second node using this node's
   * `nodeId`: ignored.
   */
  foreign: number;
  /** Events for a peer that had left, and answers nobody waited for any more. */
  dropped: number;
  /** Broadcasts that reached only this node's peers because the cluster was unavailable. */
  lostBroadcasts: number;
  /** Messages the engine refused to publish (during an outage). */
  publishFailures: number;
}

export function newStats(): ClusterStats {
  return { messagesOut: 0, messagesIn: 0, malformed: 0, foreign: 0, dropped: 0, lostBroadcasts: 0, publishFailures: 0 };
}
