/** Latency summaries: nearest-rank percentiles over wall-clock milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

/** Times each call of fn sequentially; returns the wall time of each in ms. */
export async function timeEach<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (const item of items) {
    const start = performance.now();
    await fn(item);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** mulberry32: a small seeded PRNG, so runs with the same seed pick the same ids and patients. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Up to `n` distinct items in random order (a partial Fisher-Yates shuffle of a copy). */
export function pick<T>(items: readonly T[], n: number, seed: number): T[] {
  const copy = [...items];
  const next = random(seed);
  const count = Math.min(n, copy.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(next() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
}

/** The first `warmUp` items (repeated if there are fewer), then all of them: the caller times past the warm-up. */
export function warmedUp<T>(items: readonly T[], warmUp: number): T[] {
  const head = Array.from({ length: items.length > 0 ? warmUp : 0 }, (_, i) => items[i % items.length] as T);
  return [...head, ...items];
}
