import type { Resource } from '@medplum/fhirtypes';
import { isResourceType } from '@medplum/core';
import { loadFhirDefinitions } from '../../fhir/definitions';
import type { BindingTokens } from '../bindings';
import { checkRequiredBindings } from '../bindings';
import {
  declaredProfiles,
  invalid,
  locateIssues,
  profileTypeMismatchIssue,
  runCoreValidator,
  unknownResourceTypeIssue,
  withoutDuplicates,
  withoutNoiseBelow,
} from '../core-runs';
import { checkNestedResourceTypes } from './nested-resources';
import { checkJsonShape } from './shape';

/**
 * The previous implementation of validateResourceForWrite, kept as the reference the compiled validator is
 * tested against (compiled/differential.test.ts): @medplum/core's validator (structure, cardinality, types,
 * unknown elements, primitive formats, invariants) plus Hale's JSON-shape, nested-resource and required-binding
 * checks, and every known profile in meta.profile. Same contract: throws OperationOutcomeError (400) listing
 * every error issue with its expression.
 */
export function validateWithCoreReference(resource: Resource): void {
  loadFhirDefinitions();
  const resourceType: unknown = (resource as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
    throw invalid([unknownResourceTypeIssue(resourceType)]);
  }

  const json = resource as unknown as Record<string, unknown>;
  const issues = checkNestedResourceTypes(json, resourceType);
  const nestedTypesOk = issues.length === 0;
  const shapeIssues = checkJsonShape(json, resourceType);
  issues.push(...shapeIssues);
  const tokens: BindingTokens = {};
  const explained = issues.length > 0;
  runCoreValidator(resource, undefined, tokens, issues, explained);
  for (const profile of declaredProfiles(resource)) {
    if (profile.type === resourceType) {
      runCoreValidator(resource, profile, tokens, issues, explained);
    } else {
      issues.push(profileTypeMismatchIssue(profile, resourceType));
    }
  }
  issues.push(...checkRequiredBindings(tokens));

  if (issues.length > 0) {
    const located = locateIssues(issues, resourceType, !nestedTypesOk);
    throw invalid(withoutDuplicates(withoutNoiseBelow(located, shapeIssues)));
  }
}
