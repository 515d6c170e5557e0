import { DAY_MS } from './fhir';

export interface Point {
  /** Epoch milliseconds. */
  readonly t: number;
  readonly v: number;
}

/**
 * The slope, in value units per day, of the least-squares line through the points; undefined with fewer than two
 * points or when they all share one time. This is the "trend" of the trendUp/trendDown rules and of the weekly
 * summary: unlike first-versus-last, one odd reading moves it only in proportion.
 */
export function slopePerDay(points: readonly Point[]): number | undefined {
  if (points.length < 2) {
    return undefined;
  }
  const n = points.length;
  const t0 = points[0]?.t ?? 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += (p.t - t0) / DAY_MS;
    sy += p.v;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    const dx = (p.t - t0) / DAY_MS - mx;
    sxx += dx * dx;
    sxy += dx * (p.v - my);
  }
  return sxx === 0 ? undefined : sxy / sxx;
}

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly first: number;
  readonly last: number;
}

/** Count, range, mean, first and last of points sorted by time; undefined for none. */
export function summarize(points: readonly Point[]): Summary | undefined {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) {
    return undefined;
  }
  const values = points.map((p) => p.v);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    count: values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    mean,
    first: first.v,
    last: last.v,
  };
}
