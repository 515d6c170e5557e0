/**
 * Seeded pseudo-random numbers. Everything the generator produces must be a pure function of
 * (seed, patientIndex, options), so nothing here touches Math.random() or the clock, and the
 * arithmetic is restricted to integer ops and +,-,*,/ (IEEE-exact on every engine): no Math.log,
 * Math.cos or Math.exp, whose last bits may differ between V8 releases.
 */

const GOLDEN = 0x9e3779b9;
const TWO_POW_32 = 4294967296;

/** murmur3's finaliser: a cheap, well-distributed 32-bit mix. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits any safe integer (negative or above 2^32) into two 32-bit words so distinct seeds stay distinct. */
function words(key: number): [number, number] {
  if (!Number.isSafeInteger(key)) {
    throw new RangeError(`PRNG keys must be safe integers, got ${key}`);
  }
  const big = BigInt(key);
  return [Number(BigInt.asUintN(32, big)), Number(BigInt.asUintN(32, big >> 32n))];
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128-bit state, passes PractRand. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Keys (e.g. seed, patient index, stream number) are hashed together into the initial state. */
  constructor(...keys: number[]) {
    let h = GOLDEN;
    for (const key of keys) {
      for (const word of words(key)) {
        h = mix32(h ^ word) + GOLDEN;
      }
    }
    this.a = mix32(h + 1);
    this.b = mix32(h + 2);
    this.c = mix32(h + 3);
    this.d = 1;
    // Discard the first outputs: sfc32 needs a few rounds to decorrelate from a hashed state.
    for (let i = 0; i < 12; i++) {
      this.uint32();
    }
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Uniform float in [min, max). */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) {
      throw new RangeError('Cannot pick from an empty list');
    }
    return item;
  }

  /** Picks by relative weight; entries with weight 0 are never chosen. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [value, weight] of entries) {
      roll -= weight;
      if (roll < 0 && weight > 0) {
        return value;
      }
    }
    const last = entries.findLast(([, weight]) => weight > 0);
    if (!last) {
      throw new RangeError('Cannot pick from entries whose weights are all zero');
    }
    return last[0];
  }

  /**
   * Approximately normal (Irwin-Hall: sum of 12 uniforms), bounded to mean ± 6 sd, which suits
   * physiological values better than an unbounded tail and avoids transcendental functions.
   */
  normal(mean: number, sd: number): number {
    let sum = 0;
    for (let i = 0; i < 12; i++) {
      sum += this.next();
    }
    return mean + (sum - 6) * sd;
  }

  /** k distinct items in random order (k is clamped to the list length). */
  sample<T>(items: readonly T[], k: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < k && pool.length > 0) {
      const [item] = pool.splice(Math.floor(this.next() * pool.length), 1);
      if (item !== undefined) {
        out.push(item);
      }
    }
    return out;
  }

  /** An RFC 4122 version-4 UUID built from 122 PRNG bits. */
  uuid(): string {
    const hex = [this.uint32(), this.uint32(), this.uint32(), this.uint32()]
      .map((w) => w.toString(16).padStart(8, '0'))
      .join('');
    const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}
