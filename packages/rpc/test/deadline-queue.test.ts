import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Deadlined, DeadlineQueue, type DueList } from '../src/deadline-queue.js';

class Entry implements Deadlined {
  dueAt = 0;
  dueList: DueList | undefined = undefined;
  prevDue: Entry | undefined = undefined;
  nextDue: Entry | undefined = undefined;
  constructor(readonly name: string) {}
}

describe('DeadlineQueue', () => {
  let due: string[];
  let queue: DeadlineQueue<Entry>;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    due = [];
    queue = new DeadlineQueue<Entry>((entry) => due.push(entry.name));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function add(name: string, timeoutMs: number): Entry {
    const entry = new Entry(name);
    expect(queue.add(entry, timeoutMs)).toBe(true);
    return entry;
  }

  it('serves many entries with one timer, each falling due at its own deadline', async () => {
    add('a', 100);
    await vi.advanceTimersByTimeAsync(30);
    add('b', 100);
    add('c', 100);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(69);
    expect(due).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(due).toEqual(['a']);
    expect(vi.getTimerCount()).toBe(1); // re-armed for b and c
    await vi.advanceTimersByTimeAsync(29);
    expect(due).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(due).toEqual(['a', 'b', 'c']);
    expect(queue.size).toBe(0);
    expect(queue.armed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('releases the timer when the last entry leaves, and never fires a removed entry', async () => {
    const a = add('a', 100);
    const b = add('b', 100);
    queue.remove(a);
    expect(queue.armed).toBe(true);
    queue.remove(b);
    queue.remove(b); // twice is harmless
    expect(queue.armed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(due).toEqual([]);
  });

  it('a removed head moves the deadline on to the next entry without a timer per entry', async () => {
    const a = add('a', 100);
    await vi.advanceTimersByTimeAsync(50);
    add('b', 100);
    queue.remove(a);
    await vi.advanceTimersByTimeAsync(99);
    expect(due).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(due).toEqual(['b']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a shorter timeout added later falls due first', async () => {
    add('long', 1000);
    add('short', 10);
    add('middle', 500);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(due).toEqual(['short']);
    await vi.advanceTimersByTimeAsync(490);
    expect(due).toEqual(['short', 'middle']);
    await vi.advanceTimersByTimeAsync(500);
    expect(due).toEqual(['short', 'middle', 'long']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes only a few distinct timeouts; more are left to the caller until a list empties', () => {
    const entries = Array.from({ length: 8 }, (_, i) => add(`t${String(i)}`, 100 + i));
    expect(queue.add(new Entry('ninth'), 200)).toBe(false);
    queue.remove(entries[3]!);
    expect(queue.add(new Entry('ninth'), 200)).toBe(true);
  });

  it('a wall clock set back does not delay deadlines, set forward does not bring them early', async () => {
    add('a', 10_000);
    await vi.advanceTimersByTimeAsync(5000);
    add('a2', 10_000);
    vi.setSystemTime(Date.now() - 3_600_000);
    await vi.advanceTimersByTimeAsync(5000);
    expect(due).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(due).toEqual(['a', 'a2']);
    add('b', 10_000);
    add('c', 20_000);
    vi.setSystemTime(Date.now() + 3_600_000);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(due).toEqual(['a', 'a2']);
    await vi.advanceTimersByTimeAsync(1);
    expect(due).toEqual(['a', 'a2', 'b']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(due).toEqual(['a', 'a2', 'b', 'c']);
  });

  it('waits out timeouts longer than a Node timer can (24.8 days)', async () => {
    add('far', 2 ** 31 + 5000);
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(due).toEqual([]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(due).toEqual(['far']);
  });
});
