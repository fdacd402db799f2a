import type { ClusterPeerInfo } from '@proto/rpc';
import { clusterUnavailable } from './errors.js';
import type { ClusterStats } from './stats.js';
import { withTimeout } from './timeout.js';
import type { ClusterTransport, StoredPeer } from './transport.js';

/**
 * Cluster peer ids are `<nodeId>:<incarnation>:<n>`: the node that holds the peer, the random
 * incarnation of that node (so an id handed out before a node restarted under the same `nodeId`
 * never reaches a newer peer), and a counter. Node ids never contain `:`.
 */
export function formatPeerId(nodeId: string, incarnation: string, n: number): string {
  return `${nodeId}:${incarnation}:${n}`;
}

/** Where a peer id routes to, or undefined when it is not a cluster peer id. */
export function parsePeerId(peerId: string): { nodeId: string; incarnation: string } | undefined {
  const first = peerId.indexOf(':');
  const second = first < 0 ? -1 : peerId.indexOf(':', first + 1);
  if (first <= 0 || second <= first + 1 || second === peerId.length - 1) return undefined;
  if (peerId.indexOf(':', second + 1) >= 0) return undefined;
  return { nodeId: peerId.slice(0, first), incarnation: peerId.slice(first + 1, second) };
}

/** A stored presence entry as `clusterPeers()` lists it, or undefined when it is malformed. */
export function parsePeer(stored: StoredPeer): ClusterPeerInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stored.value);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { a, u, c } = value as Record<string, unknown>;
  if ((a !== null && typeof a !== 'string') || typeof u !== 'string' || typeof c !== 'number') return undefined;
  return { id: stored.peerId, nodeId: stored.nodeId, address: a ?? undefined, username: u, connectedAt: c };
}

/** Node ids: 1 to 64 characters of letters, digits, `_`, `-` and `.`. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Every node's peers from presence (`clusterPeers()`); malformed entries are counted and left out. */
export async function listPeers(transport: ClusterTransport, timeoutMs: number, stats: ClusterStats): Promise<ClusterPeerInfo[]> {
  let stored;
  try {
    stored = await withTimeout(transport.listPeers(), timeoutMs);
  } catch (error) {
    throw clusterUnavailable(error);
  }
  const peers = stored.map(parsePeer);
  const valid = peers.filter((peer) => peer !== undefined);
  stats.malformed += peers.length - valid.length;
  return valid;
}
