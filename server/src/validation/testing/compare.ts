import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { validateWithCoreReference } from '../reference/validate';
import { validateResourceForWrite } from '../validate';
import type { Difference } from './differences';
import { compareIssues } from './differences';

export interface Outcome {
  compiled: OperationOutcomeIssue[];
  reference: OperationOutcomeIssue[];
  differences: Difference[];
}

/** Runs both validators on a resource and compares their error issues. */
export function compareValidators(resource: Resource): Outcome {
  // The compiled validator runs first: core's validator merges `_x` objects into the resource it checks.
  const compiled = issuesOf(() => validateResourceForWrite(resource));
  // Before the reference runs: core's validator merges `_x` objects into the resource it checks.
  const pristine = structuredClone(resource);
  let reference: OperationOutcomeIssue[];
  let referenceCrashed = false;
  try {
    reference = issuesOf(() => validateWithCoreReference(resource));
  } catch {
    // The reference answers 500 on some malformed `_x` (core throws a plain Error that no other check explains).
    reference = [];
    referenceCrashed = true;
  }
  const differences = compareIssues(compiled, reference, () => referenceCrashed || coreAborts(pristine));
  return { compiled, reference, differences };
}

/** The issues of the OperationOutcomeError a validator throws; none when it accepts the resource. */
export function issuesOf(validate: () => void): OperationOutcomeIssue[] {
  try {
    validate();
    return [];
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err.outcome.issue ?? [];
    }
    throw err;
  }
}

/** Whether @medplum/core's validator gives up on this input: a plain Error, or an issue that names no element. */
function coreAborts(resource: Resource): boolean {
  try {
    validateResource(resource);
    return false;
  } catch (err) {
    return !(err instanceof OperationOutcomeError) || (err.outcome.issue ?? []).some((i) => !i.expression?.length);
  }
}
