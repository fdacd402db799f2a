import { describe, expect, it } from 'vitest';
import type { NsSocket } from '@proto/ns';
import { type GateHost, InboundGate, PARKED_BYTES_LIMIT } from '../src/inbound-gate.js';
import { RpcMessageType } from '../src/message-types.js';
import { StreamMessageType } from '../src/stream-messages.js';
import { deferred } from './helpers.js';

/** A host whose socket records pause/resume and whose drain the test releases. */
function host() {
  const calls: string[] = [];
  const dispatched: [number, string][] = [];
  let drain = deferred();
  const socket = {
    pauseReading: () => calls.push('pause'),
    resumeReading: () => calls.push('resume'),
    drained: () => drain.promise,
    dropLink: () => calls.push('drop'),
  };
  const gateHost: GateHost = {
    socket: socket as unknown as NsSocket,
    open: true,
    dispatch: (type, body) => void dispatched.push([type, body.toString()]),
  };
  return {
    gateHost,
    calls,
    dispatched,
    async drainNow(): Promise<void> {
      const current = drain;
      drain = deferred();
      current.resolve();
      await current.promise;
      await Promise.resolve();
    },
  };
}

describe('InboundGate', () => {
  it("holds the peer's new calls while backpressured and keeps reading; answers to our own calls pass at once", async () => {
    const h = host();
    const gate = new InboundGate(h.gateHost);
    gate.backpressured();
    expect(gate.paused).toBe(true);
    const held = [RpcMessageType.REQUEST, RpcMessageType.CANCEL, StreamMessageType.CREDIT, StreamMessageType.INPUT_ITEMS, StreamMessageType.INPUT_END];
    const passing = [RpcMessageType.RESULT, RpcMessageType.ERROR, StreamMessageType.ITEMS, StreamMessageType.END, StreamMessageType.INPUT_CREDIT, RpcMessageType.PING, RpcMessageType.PONG];
    for (const type of held) expect(gate.admit(type, Buffer.from(`held ${type}`))).toBe(false);
    for (const type of passing) expect(gate.admit(type, Buffer.from('x'))).toBe(true);
    expect(gate.parked).toBe(held.length);
    expect(h.calls).toEqual([]); // reading goes on: a peer backpressured by us at the same time still gets its answers read
    expect(gate.readingPaused).toBe(false);
    await h.drainNow();
    expect(h.dispatched.map(([type]) => type)).toEqual(held); // in order
    expect(gate.paused).toBe(false);
    expect(gate.parked).toBe(0);
    expect(gate.admit(RpcMessageType.REQUEST, Buffer.from('after'))).toBe(true);
  });

  it('stops reading once the held calls pass the limit, and reads on after the drain ran them', async () => {
    const h = host();
    const gate = new InboundGate(h.gateHost);
    gate.backpressured();
    const body = Buffer.alloc(4096);
    let count = 0;
    while (!gate.readingPaused) {
      gate.admit(RpcMessageType.REQUEST, body);
      count++;
      expect(count).toBeLessThan(1000);
    }
    expect(count * body.length).toBeGreaterThan(PARKED_BYTES_LIMIT - 64 * count);
    expect(count * body.length).toBeLessThanOrEqual(PARKED_BYTES_LIMIT + body.length);
    expect(h.calls).toEqual(['pause']);
    await h.drainNow();
    expect(h.dispatched).toHaveLength(count);
    expect(h.calls).toEqual(['pause', 'resume']);
    expect(gate.readingPaused).toBe(false);
  });

  it('an answer that backpressures again while the held calls run stops the run; the rest waits for the next drain', async () => {
    const h = host();
    const gate = new InboundGate(h.gateHost);
    let runs = 0;
    h.gateHost.dispatch = () => {
      if (++runs === 2) gate.backpressured();
    };
    gate.backpressured();
    for (let i = 0; i < 5; i++) gate.admit(RpcMessageType.REQUEST, Buffer.from([i]));
    await h.drainNow();
    expect(runs).toBe(2);
    expect(gate.parked).toBe(3);
    // Still in order behind the held ones, even though this one arrives between drains.
    expect(gate.admit(RpcMessageType.REQUEST, Buffer.from('late'))).toBe(false);
    await h.drainNow();
    expect(runs).toBe(6);
    expect(gate.parked).toBe(0);
  });
});
