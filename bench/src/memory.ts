/** Samples a process's resident set size (VmRSS in /proc/<pid>/status) at a fixed interval. */
import { readFileSync } from 'node:fs';

export interface RssSample {
  /** ms since sampling started */
  readonly t: number;
  readonly rssMb: number;
  /** Bundles finished when the sample was taken, to relate memory to work done. */
  readonly bundlesDone: number;
}

export function readRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m?.[1]) {
    throw new Error(`No VmRSS for pid ${pid}`);
  }
  return Number(m[1]) / 1024;
}

export class RssSampler {
  readonly samples: RssSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly start = performance.now();

  constructor(
    private readonly pid: number,
    private readonly progress: () => number
  ) {}

  begin(intervalMs = 1_000): this {
    this.take();
    this.timer = setInterval(() => this.take(), intervalMs);
    return this;
  }

  end(): RssSample[] {
    clearInterval(this.timer);
    this.take();
    return this.samples;
  }

  private take(): void {
    this.samples.push({ t: performance.now() - this.start, rssMb: readRssMb(this.pid), bundlesDone: this.progress() });
  }
}

export interface MemoryWindow {
  /** Mean RSS over the samples taken while the first / last 10% of the window's bundles completed. */
  readonly first10Mb: number;
  readonly last10Mb: number;
  readonly growthPct: number;
}

export interface MemoryProfile {
  readonly startMb: number;
  readonly peakMb: number;
  readonly endMb: number;
  readonly samples: number;
  /** The whole ingest (its start runs one bundle at a time, its end several, so memory differs by design). */
  readonly whole: MemoryWindow;
  /** The concurrent phase alone: same load throughout, so growth here means memory grows with data. */
  readonly concurrent: MemoryWindow;
}

function mean(values: readonly number[]): number {
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

/** Samples with bundlesDone in (from, to]; when none fell in that span, the sample just after it. */
function rssBetween(samples: readonly RssSample[], from: number, to: number): number {
  const inside = samples.filter((s) => s.bundlesDone > from && s.bundlesDone <= to).map((s) => s.rssMb);
  if (inside.length > 0) {
    return mean(inside);
  }
  return samples.find((s) => s.bundlesDone > from)?.rssMb ?? Number.NaN;
}

function memoryWindow(samples: readonly RssSample[], from: number, to: number): MemoryWindow {
  const tenth = Math.max(1, Math.round((to - from) / 10));
  const first10Mb = rssBetween(samples, from, from + tenth);
  const last10Mb = rssBetween(samples, to - tenth, to);
  return { first10Mb, last10Mb, growthPct: ((last10Mb - first10Mb) / first10Mb) * 100 };
}

/** `start`, `concurrentFrom` and `end` are bundle counts: where sampling began, the concurrent phase began, all ended. */
export function memoryProfile(
  samples: readonly RssSample[],
  start: number,
  concurrentFrom: number,
  end: number
): MemoryProfile {
  return {
    startMb: samples[0]?.rssMb ?? Number.NaN,
    peakMb: Math.max(...samples.map((s) => s.rssMb)),
    endMb: samples[samples.length - 1]?.rssMb ?? Number.NaN,
    samples: samples.length,
    whole: memoryWindow(samples, start, end),
    concurrent: memoryWindow(samples, concurrentFrom, end),
  };
}
