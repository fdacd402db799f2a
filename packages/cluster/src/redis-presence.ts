import { Buffer } from 'node:buffer';
import type { StoredPeer } from './transport.js';

/** Runs one Redis command. */
export type RunCommand = (args: readonly string[]) => Promise<unknown>;

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

/** The incarnation stored under a node key (GET), or undefined when there is none. */
export async function readIncarnation(run: RunCommand, key: string): Promise<string | undefined> {
  return text(await run(['GET', key]));
}

/** The fields of a hash (HKEYS): the peer ids one node stored. */
export async function readPeerIds(run: RunCommand, key: string): Promise<string[]> {
  const reply = await run(['HKEYS', key]);
  if (!Array.isArray(reply)) throw new Error('unexpected HKEYS reply');
  const ids: string[] = [];
  for (const field of reply as unknown[]) {
    const id = text(field);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** `field → value` pairs of an HGETALL reply, whichever protocol (RESP2 flat array, RESP3 map). */
export function hashEntries(reply: unknown): [string, string][] {
  const entries: [string, string][] = [];
  const push = (field: unknown, value: unknown): void => {
    const f = text(field);
    const v = text(value);
    if (f !== undefined && v !== undefined) entries.push([f, v]);
  };
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) push(reply[i], reply[i + 1]);
  } else if (reply instanceof Map) {
    for (const [field, value] of reply) push(field, value);
  } else if (typeof reply === 'object' && reply !== null) {
    for (const [field, value] of Object.entries(reply)) push(field, value);
  }
  return entries;
}

/** A SCAN MATCH pattern matching `literal` followed by anything. */
function prefixPattern(literal: string): string {
  return `${literal.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/** Node ids of every live node (SCAN over the node keys: they expire with their node). */
async function liveNodes(run: RunCommand, prefix: string): Promise<string[]> {
  const keyPrefix = `${prefix}:nodes:`;
  const pattern = prefixPattern(keyPrefix);
  const nodes: string[] = [];
  let cursor = '0';
  do {
    const reply = await run(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '100']);
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) throw new Error('unexpected SCAN reply');
    cursor = text(reply[0]) ?? '0';
    for (const key of reply[1] as unknown[]) {
      const name = text(key);
      if (name !== undefined && name.startsWith(keyPrefix)) nodes.push(name.slice(keyPrefix.length));
    }
  } while (cursor !== '0');
  return [...new Set(nodes)];
}

/** Every peer of every live node. */
export async function listPeers(run: RunCommand, prefix: string): Promise<StoredPeer[]> {
  const nodes = await liveNodes(run, prefix);
  const replies = await Promise.all(nodes.map((nodeId) => run(['HGETALL', `${prefix}:peers:${nodeId}`])));
  const peers: StoredPeer[] = [];
  nodes.forEach((nodeId, i) => {
    for (const [peerId, value] of hashEntries(replies[i])) peers.push({ nodeId, peerId, value });
  });
  return peers;
}
