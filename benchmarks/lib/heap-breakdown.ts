// What idle connections hold, from a V8 heap snapshot: the dominator tree (Cooper, Harvey and
// Kennedy's iterative algorithm), then the retained size of every object held directly by a GC
// root, summed per constructor name. Per-connection objects (a Socket, a FramedSocket, a Link...)
// are held by their handles, so those sums divided by the connections say what one costs.
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** A constructor whose root-held instances number at least one per connection, with its retained bytes per connection. */
export interface RetainedShare {
  name: string;
  perConnection: number;
  bytesPerConnection: number;
}

export function retainedPerConnection(file: string, connections: number, top = 8): RetainedShare[] {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const nf = s.snapshot.meta.node_fields;
  const ef = s.snapshot.meta.edge_fields;
  const NF = nf.length;
  const EF = ef.length;
  const types = s.snapshot.meta.node_types[0];
  const etypes = s.snapshot.meta.edge_types[0];
  const iT = nf.indexOf('type');
  const iN = nf.indexOf('name');
  const iS = nf.indexOf('self_size');
  const iE = nf.indexOf('edge_count');
  const eT = ef.indexOf('type');
  const eTo = ef.indexOf('to_node');
  const weak = etypes.indexOf('weak');
  const shortcut = etypes.indexOf('shortcut');
  const synthetic = types.indexOf('synthetic');
  const objectType = types.indexOf('object');
  const n = s.nodes.length / NF;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += s.nodes[i * NF + iE]! * EF;
    firstEdge[i + 1] = e;
  }
  // Depth-first postorder from the root (node 0), ignoring weak and shortcut edges; predecessors on the way.
  const order = new Int32Array(n).fill(-1);
  const post: number[] = [];
  const next = new Uint32Array(n);
  const seen = new Uint8Array(n);
  const preds: (number[] | undefined)[] = new Array<number[] | undefined>(n);
  const stack = [0];
  seen[0] = 1;
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    let pushed = false;
    for (let e = firstEdge[v]! + next[v]! * EF; e < firstEdge[v + 1]!; e += EF) {
      next[v]!++;
      const t = s.edges[e + eT];
      if (t === weak || t === shortcut) continue;
      const w = s.edges[e + eTo]! / NF;
      (preds[w] ??= []).push(v);
      if (seen[w] === 0) {
        seen[w] = 1;
        stack.push(w);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      stack.pop();
      order[v] = post.length;
      post.push(v);
    }
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = post.length - 1; k >= 0; k--) {
      const v = post[k]!;
      if (v === 0) continue;
      let d = -1;
      for (const p of preds[v] ?? []) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(n);
  for (let i = 0; i < n; i++) retained[i] = s.nodes[i * NF + iS]!;
  for (const v of post) if (v !== 0 && idom[v]! >= 0) retained[idom[v]!]! += retained[v]!;
  const groups = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < n; i++) {
    if (s.nodes[i * NF + iT] !== objectType || idom[i]! < 0 || s.nodes[idom[i]! * NF + iT] !== synthetic) continue;
    const name = s.strings[s.nodes[i * NF + iN]!]!;
    const g = groups.get(name) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += retained[i]!;
    groups.set(name, g);
  }
  return [...groups]
    .filter(([, g]) => g.count >= connections)
    .map(([name, g]) => ({ name, perConnection: g.count / connections, bytesPerConnection: g.bytes / connections }))
    .sort((a, b) => b.bytesPerConnection - a.bytesPerConnection)
    .slice(0, top);
}
