import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { isResourceType } from '@medplum/core';
import { loadFhirDefinitions } from '../fhir/definitions';
import type { BindingTokens } from './bindings';
import { checkRequiredBindings } from './bindings';
import { validateCompiled } from './compiled';
import type { JsonObject } from './compiled/json';
import {
  declaredProfiles,
  invalid,
  locateIssues,
  profileTypeMismatchIssue,
  runCoreValidator,
  unknownResourceTypeIssue,
  withoutDuplicates,
  withoutNoiseBelow,
} from './core-runs';

/**
 * Validates a resource before it is created or updated: structure, cardinality, types, unknown elements,
 * primitive formats, JSON shape, nested resources, invariants and required terminology bindings (the compiled
 * validator, compiled/), and every profile in meta.profile that the server knows (@medplum/core's validator;
 * unknown profiles are ignored, as HAPI does by default).
 *
 * Throws OperationOutcomeError with one error issue per problem (HTTP 400 semantics), each naming the
 * element by FHIRPath in `expression`. Warnings are not reported: they never block a write.
 */
export function validateResourceForWrite(resource: Resource): void {
  loadFhirDefinitions();
  const resourceType: unknown = (resource as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
    throw invalid([unknownResourceTypeIssue(resourceType)]);
  }
  const issues = validateCompiled(resource as unknown as JsonObject, resourceType);
  const profiles = declaredProfiles(resource);
  // Profiles are rare on ingest, so they keep going through core's validator (which also handles slicing).
  if (profiles.length > 0) {
    issues.push(...profileIssues(resource, resourceType, profiles, issues));
  }
  if (issues.length > 0) {
    throw invalid(withoutDuplicates(issues));
  }
}

/**
 * Core's issues for the declared profiles. Core repeats the base checks, so what the compiled validator already
 * reported comes back (dropped as duplicates), and below values it rejected as a whole core reports noise.
 */
function profileIssues(
  resource: Resource,
  resourceType: string,
  profiles: StructureDefinition[],
  found: OperationOutcomeIssue[]
): OperationOutcomeIssue[] {
  const tokens: BindingTokens = {};
  const issues: OperationOutcomeIssue[] = [];
  for (const profile of profiles) {
    if (profile.type === resourceType) {
      runCoreValidator(resource, profile, tokens, issues, found.length > 0);
    } else {
      issues.push(profileTypeMismatchIssue(profile, resourceType));
    }
  }
  issues.push(...checkRequiredBindings(tokens));
  const rejected = found.filter((issue) => issue.code === 'structure' || issue.code === 'invalid');
  return withoutNoiseBelow(locateIssues(issues, resourceType, found.length > 0), rejected);
}
