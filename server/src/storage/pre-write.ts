import type { Resource } from '@medplum/fhirtypes';
import { requireProfiles } from '../validation/required-profiles';
import { interpretReferenceRanges } from '../wellness/interpretation';
import { normaliseMeasurements } from '../wellness/normalise';
import type { RepoContext } from './context';

/** Changes a version about to be stored (the repository's own copy of the caller's resource). */
export type PreWriteStep = (resource: Resource, ctx: RepoContext) => void;

/**
 * The pre-write hook point: named steps run in order on every version before it is validated and indexed,
 * so what is validated, stored and searched is what they leave. A step changes the resource (never the
 * caller's objects inside it: it replaces them) or leaves it; refusing is validation's job, which follows.
 */
export const PRE_WRITE_STEPS: readonly { name: string; run: PreWriteStep }[] = [
  // Measurement values in their profile's UCUM unit, the value as written kept beside it (ADR 0006).
  { name: 'normalise-measurements', run: normaliseMeasurements },
  // H/L/N from the reference range, when the writer gave no interpretation (wellness/interpretation.ts).
  { name: 'interpret-reference-ranges', run: interpretReferenceRanges },
  // A patient app's measurement must conform to its Hale profile (REQUIRE_PROFILES).
  { name: 'require-profiles', run: requireProfiles },
];

export function runPreWriteSteps(resource: Resource, ctx: RepoContext): void {
  for (const step of PRE_WRITE_STEPS) {
    step.run(resource, ctx);
  }
}
