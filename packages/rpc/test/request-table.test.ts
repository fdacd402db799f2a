import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingRequest, RequestTable, type RequestTableHost } from '../src/request-table.js';
import { RpcErrorCode } from '../src/errors.js';

class Host implements RequestTableHost {
  cancels: number[] = [];
  settled: (string | undefined)[] = [];
  sendCancel(id: number): void {
    this.cancels.push(id);
  }
  requestSettled(_entry: PendingRequest, error: Error | undefined): void {
    this.settled.push((error as { code?: string } | undefined)?.code);
  }
}

describe('RequestTable', () => {
  let host: Host;
  let table: RequestTable;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    host = new Host();
    table = new RequestTable(host);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function add(timeoutMs = 1000, signal?: AbortSignal): PendingRequest {
    const entry = new PendingRequest(table, table.nextId(), 'm', 0);
    table.add(entry, timeoutMs, signal);
    return entry;
  }

  it('resolves once through take()', async () => {
    const entry = add();
    const taken = table.take(entry.id);
    expect(taken).toBe(entry);
    entry.resolve(42);
    expect(table.take(entry.id)).toBeUndefined();
    await expect(entry.promise).resolves.toBe(42);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('times out, sends a cancel and releases the timer', async () => {
    const entry = add(50);
    const settled = expect(entry.promise).rejects.toMatchObject({ code: RpcErrorCode.REQUEST_TIMEOUT });
    await vi.advanceTimersByTimeAsync(50);
    await settled;
    expect(host.cancels).toEqual([entry.id]);
    expect(table.size).toBe(0);
    expect(host.settled).toEqual([RpcErrorCode.REQUEST_TIMEOUT]);
  });

  it('aborts, sends a cancel and removes its listener', async () => {
    const controller = new AbortController();
    const entry = add(1000, controller.signal);
    controller.abort(new Error('why'));
    await expect(entry.promise).rejects.toMatchObject({ code: RpcErrorCode.ABORTED });
    expect(host.cancels).toEqual([entry.id]);
    expect(vi.getTimerCount()).toBe(0);
    controller.abort(); // no second settle
    expect(host.settled).toHaveLength(1);
  });

  it('takes the abort listener off when answered', () => {
    const controller = new AbortController();
    const entry = add(1000, controller.signal);
    table.take(entry.id);
    entry.resolve(1);
    controller.abort();
    expect(host.cancels).toEqual([]);
  });

  it('gives a shared signal one listener, cancels all its requests on abort, then removes it', async () => {
    const controller = new AbortController();
    const entries = Array.from({ length: 50 }, () => add(1000, controller.signal));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    table.take(entries[0]!.id);
    entries[0]!.resolve('answered');
    controller.abort();
    for (const entry of entries.slice(1)) await expect(entry.promise).rejects.toMatchObject({ code: RpcErrorCode.ABORTED });
    expect(host.cancels).toHaveLength(49);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('removes the shared listener once the last request sharing it settles', async () => {
    const signal = new AbortController().signal;
    const entries = [add(1000, signal), add(1000, signal)];
    for (const entry of entries) {
      table.take(entry.id);
      entry.resolve(1);
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('rejects everything on a drop without sending cancels', async () => {
    const entries = [add(), add(0), add()];
    table.rejectAll('gone');
    for (const entry of entries) {
      await expect(entry.promise).rejects.toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
    }
    expect(host.cancels).toEqual([]);
    expect(table.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('shares one timer among many requests and releases it when the last one is answered', async () => {
    const entries = Array.from({ length: 100 }, () => add(1000));
    expect(vi.getTimerCount()).toBe(1);
    expect(table.deadlineTimerArmed).toBe(true);
    for (const entry of entries.slice(0, 99)) table.take(entry.id);
    expect(vi.getTimerCount()).toBe(1);
    table.take(entries[99]!.id);
    expect(table.deadlineTimerArmed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(2000);
    expect(host.cancels).toEqual([]);
  });

  it('releases the shared timer when the link drops', async () => {
    const entries = [add(1000), add(5000), add(1000)];
    expect(vi.getTimerCount()).toBe(1);
    table.rejectAll('gone');
    expect(table.deadlineTimerArmed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    for (const entry of entries) await expect(entry.promise).rejects.toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
  });

  it('times out requests of one timeout in order, re-arming for the next', async () => {
    const first = add(100);
    await vi.advanceTimersByTimeAsync(40);
    const second = add(100);
    const firstFailed = expect(first.promise).rejects.toMatchObject({ code: RpcErrorCode.REQUEST_TIMEOUT });
    await vi.advanceTimersByTimeAsync(60);
    await firstFailed;
    expect(host.cancels).toEqual([first.id]);
    expect(vi.getTimerCount()).toBe(1);
    const secondFailed = expect(second.promise).rejects.toMatchObject({ code: RpcErrorCode.REQUEST_TIMEOUT });
    await vi.advanceTimersByTimeAsync(40);
    await secondFailed;
    expect(host.cancels).toEqual([first.id, second.id]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('past a few distinct timeouts gives a request its own timer, released all the same', async () => {
    const entries = Array.from({ length: 10 }, (_, i) => add(1000 + i));
    expect(vi.getTimerCount()).toBe(3); // one shared timer for 8 timeouts, two of their own
    const last = entries[9]!;
    const lastFailed = expect(last.promise).rejects.toMatchObject({ code: RpcErrorCode.REQUEST_TIMEOUT });
    for (const entry of entries.slice(0, 9)) table.take(entry.id);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1009);
    await lastFailed;
    expect(vi.getTimerCount()).toBe(0);
    expect(table.size).toBe(0);
  });

  it('numbers ids sequentially, and wraps at 2^32', () => {
    table = new RequestTable(host, 0xfffffffe);
    const a = add();
    const b = add();
    expect([a.id, b.id]).toEqual([0xfffffffe, 0xffffffff]);
    const c = add();
    expect(c.id).toBe(0);
    table = new RequestTable(host, 0xffffffff);
    const d = add(); // 0xffffffff
    const e = add(); // 0
    expect([d.id, e.id]).toEqual([0xffffffff, 0]);
  });
});
