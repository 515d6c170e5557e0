/** Runs checked requests one at a time: a wrong answer or an HTTP error is counted and reported, never timed. */
import { FhirHttpError } from './http';
import { summarize, type LatencySummary } from './stats';

export interface CheckedLatency {
  readonly latency: LatencySummary;
  /** Requests that failed or answered wrongly, with the first few to report. */
  readonly errors: number;
  readonly errorExamples: string[];
}

export interface CheckedResponse {
  readonly ms: number;
  /** Why the answer is wrong; undefined when it is right. */
  readonly problem?: string;
}

/** Times `request` for each item past the first `warmUp` (those run too, untimed, to warm caches and the JIT). */
export async function measure<T>(
  items: readonly T[],
  warmUp: number,
  request: (item: T) => Promise<CheckedResponse>
): Promise<CheckedLatency> {
  const samples: number[] = [];
  const errorExamples: string[] = [];
  let errors = 0;
  for (const [i, item] of items.entries()) {
    let result: CheckedResponse;
    try {
      result = await request(item);
    } catch (err) {
      if (!(err instanceof FhirHttpError)) {
        throw err;
      }
      result = { ms: 0, problem: err.message };
    }
    if (result.problem !== undefined) {
      errors++;
      if (errorExamples.length < 3) {
        errorExamples.push(result.problem);
      }
    } else if (i >= warmUp) {
      samples.push(result.ms);
    }
  }
  return { latency: summarize(samples), errors, errorExamples };
}
