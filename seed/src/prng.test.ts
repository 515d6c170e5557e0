import { Rng } from './prng';

describe('Rng', () => {
  test('repeats the same sequence for the same keys', () => {
    const a = new Rng(42, 7);
    const b = new Rng(42, 7);
    const sequence = Array.from({ length: 100 }, () => a.uint32());
    expect(Array.from({ length: 100 }, () => b.uint32())).toEqual(sequence);
  });

  test('separates streams by every key, including the high bits of large seeds', () => {
    const first = (...keys: number[]) => new Rng(...keys).uint32();
    const values = [first(42, 7), first(42, 8), first(43, 7), first(2 ** 32 + 42, 7), first(-42, 7), first(7, 42)];
    expect(new Set(values).size).toBe(values.length);
    expect(() => new Rng(0.5)).toThrow(RangeError);
  });

  test('draws are in range and roughly uniform', () => {
    const rng = new Rng(1);
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 60_000; i++) {
      const value = rng.int(0, 5);
      counts[value] = (counts[value] ?? 0) + 1;
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
    }
    for (const count of counts) {
      expect(Math.abs(count - 10_000)).toBeLessThan(500);
    }
  });

  test('normal() is centred with the requested spread and bounded', () => {
    const rng = new Rng(2);
    const values = Array.from({ length: 20_000 }, () => rng.normal(100, 10));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / values.length);
    expect(Math.abs(mean - 100)).toBeLessThan(0.5);
    expect(Math.abs(sd - 10)).toBeLessThan(0.5);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...values)).toBeLessThanOrEqual(160);
  });

  test('weighted() honours weights and never picks zero-weight entries', () => {
    const rng = new Rng(3);
    const picks = Array.from({ length: 10_000 }, () =>
      rng.weighted([
        ['a', 3],
        ['b', 1],
        ['c', 0],
      ] as const)
    );
    expect(picks).not.toContain('c');
    const share = picks.filter((p) => p === 'a').length / picks.length;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
  });

  test('uuid() yields distinct RFC 4122 version-4 UUIDs', () => {
    const rng = new Rng(4);
    const ids = Array.from({ length: 5_000 }, () => rng.uuid());
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('sample() returns distinct items and pick() refuses empty lists', () => {
    const rng = new Rng(5);
    const sample = rng.sample([1, 2, 3, 4, 5], 3);
    expect(new Set(sample).size).toBe(3);
    expect(rng.sample([1, 2], 5)).toHaveLength(2);
    expect(() => rng.pick([])).toThrow(RangeError);
  });
});
