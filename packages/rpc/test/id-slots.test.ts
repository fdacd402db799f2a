import { describe, expect, it } from 'vitest';
import { IdSlots } from '../src/id-slots.js';

interface Entry {
  readonly id: number;
}

function take(table: IdSlots<Entry>): Entry {
  const entry = { id: table.nextId() };
  table.add(entry);
  return entry;
}

describe('IdSlots', () => {
  it('hands out a counter and finds entries by id; unknown ids find nothing', () => {
    const table = new IdSlots<Entry>();
    const entries = Array.from({ length: 5 }, () => take(table));
    expect(entries.map((e) => e.id)).toEqual([0, 1, 2, 3, 4]);
    for (const entry of entries) expect(table.get(entry.id)).toBe(entry);
    expect(table.get(5)).toBeUndefined();
    expect(table.get(16)).toBeUndefined(); // same slot as 0 in a 16-slot table, another id
    expect(table.size).toBe(5);
  });

  it('never hands out an id that is still pending, however long it stays', () => {
    const table = new IdSlots<Entry>();
    const stuck = take(table);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const entry = take(table);
      expect(entry.id).not.toBe(stuck.id);
      expect(table.get(stuck.id)).toBe(stuck);
      seen.add(entry.id);
      expect(table.delete(entry)).toBe(true);
    }
    expect(seen.size).toBe(10_000);
  });

  it('grows past half full, keeping every entry reachable', () => {
    const table = new IdSlots<Entry>();
    const entries = Array.from({ length: 1000 }, () => take(table));
    expect(new Set(entries.map((e) => e.id)).size).toBe(1000);
    for (const entry of entries) expect(table.get(entry.id)).toBe(entry);
    for (const entry of entries.filter((e) => e.id % 2 === 0)) table.delete(entry);
    for (const entry of entries) expect(table.get(entry.id)).toBe(entry.id % 2 === 0 ? undefined : entry);
    expect(table.size).toBe(500);
  });

  it('wraps at 2^32 and skips ids still pending from the previous lap', () => {
    const table = new IdSlots<Entry>(0xfffffffe);
    const a = take(table);
    const b = take(table);
    const c = take(table);
    expect([a.id, b.id, c.id]).toEqual([0xfffffffe, 0xffffffff, 0]);
    for (const entry of [a, b, c]) expect(table.get(entry.id)).toBe(entry);
  });

  it('deletes only the entry it holds, and takeAll empties it', () => {
    const table = new IdSlots<Entry>();
    const a = take(table);
    expect(table.delete({ id: a.id })).toBe(false); // another object with the same id
    expect(table.delete(a)).toBe(true);
    expect(table.delete(a)).toBe(false);
    const rest = Array.from({ length: 40 }, () => take(table));
    expect(table.takeAll()).toEqual(rest);
    expect(table.size).toBe(0);
    expect(rest.every((e) => table.get(e.id) === undefined)).toBe(true);
    expect(table.takeAll()).toEqual([]);
  });

  it('holds ids chosen by a peer, colliding ones included (a hostile peer cannot make it grow)', () => {
    const table = new IdSlots<Entry>();
    // All share one slot in any table smaller than 2^20 slots.
    const colliding = Array.from({ length: 50 }, (_, i) => ({ id: (i * 2 ** 20) >>> 0 }));
    const ordinary = Array.from({ length: 50 }, (_, i) => ({ id: 1000 + i }));
    for (const entry of [...colliding, ...ordinary]) {
      expect(table.get(entry.id)).toBeUndefined();
      table.add(entry);
    }
    expect(table.size).toBe(100);
    for (const entry of [...colliding, ...ordinary]) expect(table.get(entry.id)).toBe(entry);
    for (const entry of colliding.slice(0, 25)) expect(table.delete(entry)).toBe(true);
    for (const entry of colliding.slice(0, 25)) expect(table.get(entry.id)).toBeUndefined();
    for (const entry of colliding.slice(25)) expect(table.get(entry.id)).toBe(entry);
    // Our own counter never hands out an id a peer-chosen entry holds.
    const fresh = new IdSlots<Entry>(16);
    const zero = { id: 0 };
    fresh.add(zero);
    fresh.add({ id: 16 }); // same slot as 0 in a 16-slot table: kept on the side
    fresh.delete(zero); // slot free again, but 16 is still held
    expect([fresh.nextId(), fresh.nextId()]).toEqual([17, 18]);
    expect(new Set(table.takeAll())).toEqual(new Set([...colliding.slice(25), ...ordinary]));
    expect(table.size).toBe(0);
  });

  it('keeps working after a burst empties it (memory given back) and in a closed loop', () => {
    const table = new IdSlots<Entry>();
    const burst = Array.from({ length: 5000 }, () => take(table));
    for (const entry of burst) table.delete(entry);
    expect(table.size).toBe(0);
    for (let round = 0; round < 50; round++) {
      const batch = Array.from({ length: 100 }, () => take(table));
      for (const entry of batch) expect(table.get(entry.id)).toBe(entry);
      for (const entry of batch) table.delete(entry);
    }
    expect(table.size).toBe(0);
  });
});
