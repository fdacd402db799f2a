import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterMessage } from '../src/envelope.js';
import { RemotePeers } from '../src/remote-peers.js';

/** A registry read per call, answered by the test. */
function fakeRegistry() {
  const reads: { nodeId: string; answer: (ids: string[]) => void; fail: (error: Error) => void }[] = [];
  const transport = {
    peerIdsOf: (nodeId: string) =>
      new Promise<string[]>((answer, fail) => {
        reads.push({ nodeId, answer, fail });
      }),
  };
  return { transport, reads };
}

const flush = (): Promise<void> => Promise.resolve().then(() => {});

function from(n: string, k: string, fields: Record<string, unknown>): ClusterMessage {
  return { n, k, ...fields } as ClusterMessage;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('remote peers', () => {
  it('is unknown until the registry answers, then applies the announcements heard meanwhile over it', async () => {
    const { transport, reads } = fakeRegistry();
    const peers = new RemotePeers(transport, 100);
    expect(peers.heard(from('b', 'k1', { t: 'hb' }))).toBe(false);
    expect(reads.map((r) => r.nodeId)).toEqual(['b']);
    peers.heard(from('b', 'k1', { t: 'pj', peer: 'b:k1:3' }));
    peers.heard(from('b', 'k1', { t: 'pl', peer: 'b:k1:2' }));
    peers.heard(from('b', 'k1', { t: 'pj', peer: 'b:k1:4' }));
    peers.heard(from('b', 'k1', { t: 'pl', peer: 'b:k1:4' }));
    // Unknown: everything may be there, and one read at a time.
    expect(peers.mayHold('b', 'k1', 'b:k1:99')).toBe(true);
    expect(reads).toHaveLength(1);
    // The hash still holds a previous incarnation's peer: not this one's.
    reads[0]!.answer(['b:k1:1', 'b:k1:2', 'b:k0:7']);
    await flush();
    // Left (2, 4) or never issued (far past the highest, or a form no node issues): not there.
    // Just past the highest heard of (5): maybe just issued, its join on its way.
    const ids = ['b:k1:1', 'b:k1:2', 'b:k1:3', 'b:k1:4', 'b:k1:5', 'b:k1:99999', 'b:k1:0', 'b:k1:05', 'b:k1:x', 'b:k1:'];
    expect(ids.map((id) => peers.mayHold('b', 'k1', id))).toEqual([true, false, true, false, true, false, false, false, false, false]);
    // {1, 3}: the previous incarnation's 7 is not counted (a count of 2 reads nothing again).
    peers.heard(from('b', 'k1', { t: 'hb', c: 2 }));
    expect(reads).toHaveLength(1);
    peers.heard(from('b', 'k1', { t: 'pj', peer: 'b:k1:5' }));
    peers.heard(from('b', 'k1', { t: 'pl', peer: 'b:k1:1' }));
    expect(peers.mayHold('b', 'k1', 'b:k1:5')).toBe(true);
    expect(peers.mayHold('b', 'k1', 'b:k1:1')).toBe(false);
    // Another incarnation, or a node never heard of: not this table's call.
    expect(peers.mayHold('b', 'k2', 'b:k2:1')).toBe(true);
    expect(peers.mayHold('c', 'k', 'c:k:1')).toBe(true);
  });

  it('reads again after a registration (dropping a read in flight), a count that differs, a failed read', async () => {
    const { transport, reads } = fakeRegistry();
    const peers = new RemotePeers(transport, 100);
    peers.heard(from('b', 'k', { t: 'hb' }));
    // Registered again while the first read is in flight: that read's answer is stale.
    expect(peers.heard(from('b', 'k', { t: 'hb', r: 1 }))).toBe(true);
    expect(reads).toHaveLength(2);
    reads[0]!.answer([]);
    reads[1]!.answer(['b:k:1']);
    await flush();
    expect(peers.mayHold('b', 'k', 'b:k:1')).toBe(true);
    expect(peers.mayHold('b', 'k', 'b:k:5000')).toBe(false);
    // Same count: nothing to do. Another count: an announcement was missed, read again.
    peers.heard(from('b', 'k', { t: 'hb', c: 1 }));
    expect(reads).toHaveLength(2);
    peers.heard(from('b', 'k', { t: 'hb', c: 2 }));
    expect(reads).toHaveLength(3);
    expect(peers.mayHold('b', 'k', 'b:k:2')).toBe(true);
    reads[2]!.fail(new Error('Redis is unreachable'));
    await flush();
    expect(peers.mayHold('b', 'k', 'b:k:2')).toBe(true);
    // The next message from that node tries again.
    peers.heard(from('b', 'k', { t: 'hb' }));
    expect(reads).toHaveLength(4);
    reads[3]!.answer(['b:k:1', 'b:k:2']);
    await flush();
    expect(peers.mayHold('b', 'k', 'b:k:2')).toBe(true);
    expect(peers.mayHold('b', 'k', 'b:k:9999')).toBe(false);
    // A new incarnation starts over.
    peers.heard(from('b', 'k2', { t: 'hb' }));
    expect(reads).toHaveLength(5);
    expect(peers.mayHold('b', 'k2', 'b:k2:9')).toBe(true);
  });

  it('takes in what clusterPeers() listed, forgets dropped nodes, and settles a period after registering', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { transport, reads } = fakeRegistry();
    const peers = new RemotePeers(transport, 100);
    peers.heard(from('b', 'k', { t: 'hb' }));
    reads[0]!.answer(['b:k:5']);
    await flush();
    expect(peers.mayHold('b', 'k', 'b:k:1')).toBe(false);
    const listed = [
      { id: 'b:k:1', nodeId: 'b', address: undefined, username: 'u', connectedAt: 0 },
      { id: 'b:old:1', nodeId: 'b', address: undefined, username: 'u', connectedAt: 0 },
    ];
    expect(peers.listed(listed)).toBe(listed);
    expect(peers.mayHold('b', 'k', 'b:k:1')).toBe(true);
    peers.drop('b');
    expect(peers.mayHold('b', 'k', 'b:k:2')).toBe(true);

    expect(peers.settled).toBe(false);
    peers.registered();
    vi.advanceTimersByTime(99);
    expect(peers.settled).toBe(false);
    vi.advanceTimersByTime(1);
    expect(peers.settled).toBe(true);
    peers.clear();
    expect(peers.settled).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(peers.settled).toBe(false);
  });
});
