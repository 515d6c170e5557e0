import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { checkInvariants } from './invariants';
import type { JsonObject } from './json';
import { planOf } from './plan';
import { Run } from './run';
import { checkObject } from './walk';

/**
 * Validates a plain JSON resource of a known resource type against the base StructureDefinitions loaded in
 * @medplum/core's global schema: unknown elements, cardinality, primitive types and formats, JSON shape, nested
 * resources, required bindings and invariants. Returns the error issues, each with its FHIRPath expression.
 *
 * It reports what @medplum/core's validator plus Hale's own checks reported (reference/validate.ts), from one
 * walk over the JSON guided by per-type plans compiled on first use, instead of core's generic crawl over
 * every element of every type wrapped in TypedValues. Profiles are not handled here.
 */
export function validateCompiled(resource: JsonObject, resourceType: string): OperationOutcomeIssue[] {
  const plan = planOf(resourceType);
  const run = new Run(resource, resourceType);
  // The type's own invariants apply to the resource being validated; core does not check them on nested ones.
  checkInvariants(plan.invariants, resource, undefined, resourceType, run);
  checkObject(resource, plan, run);
  return run.issues;
}
