import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { OperationOutcomeError, isResourceType, validateResource } from '@medplum/core';
import { loadFhirDefinitions } from '../fhir/definitions';
import type { BindingTokens } from './bindings';
import { checkRequiredBindings } from './bindings';
import { checkNestedResourceTypes } from './nested-resources';
import { findProfile } from './profiles';
import { checkJsonShape } from './shape';

/**
 * Validates a resource before it is created or updated: structure, cardinality, types, unknown elements and
 * primitive formats (@medplum/core), required terminology bindings (which core does not check), and every
 * profile in meta.profile that the server knows (unknown profiles are ignored, as HAPI does by default).
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
    const located = locateIssues(issues, resourceType, nestedTypesOk);
    throw invalid(withoutDuplicates(withoutNoiseBelow(located, shapeIssues)));
  }
}

/**
 * Core reports a few problems without naming an element, chiefly 'Unknown data type' when it aborts on a
 * nested resource of unknown type. Those are dropped when the nested-resource check already located the cause,
 * otherwise attributed to the resource as a whole so every issue carries an expression.
 */
function locateIssues(
  issues: OperationOutcomeIssue[],
  resourceType: string,
  nestedTypesOk: boolean
): OperationOutcomeIssue[] {
  const located = issues.filter((issue) => issue.expression?.length || nestedTypesOk);
  return located.map((issue) => (issue.expression?.length ? issue : { ...issue, expression: [resourceType] }));
}

/**
 * Runs @medplum/core's validator, which throws once it has gathered all issues of a resource. The tokens
 * object is filled even when it throws, so binding problems are still reported alongside structural ones.
 * `explained` says whether our own checks already found problems that can make core throw a plain Error.
 */
function runCoreValidator(
  resource: Resource,
  profile: StructureDefinition | undefined,
  tokens: BindingTokens,
  issues: OperationOutcomeIssue[],
  explained: boolean
): void {
  try {
    validateResource(resource, { profile, collect: { tokens } });
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      issues.push(...(err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal'));
      return;
    }
    // Core throws plain Errors on input it cannot handle (e.g. malformed `_x` properties). When our own checks
    // already found a problem, that is the cause; otherwise it is a genuine server bug.
    if (!explained) {
      throw err;
    }
  }
}

function declaredProfiles(resource: Resource): StructureDefinition[] {
  const urls: unknown = resource.meta?.profile;
  // A malformed meta.profile is reported by the structural check; here we only look for profiles to apply.
  if (!Array.isArray(urls)) {
    return [];
  }
  return urls
    .filter((url): url is string => typeof url === 'string')
    .map(findProfile)
    .filter((sd): sd is StructureDefinition => sd !== undefined);
}

/**
 * Where the shape check found a value of the wrong JSON kind (e.g. a string for a CodeableConcept), core
 * reports nonsense below it, such as 'Invalid additional property "0"' for each character index.
 */
function withoutNoiseBelow(
  issues: OperationOutcomeIssue[],
  shapeIssues: OperationOutcomeIssue[]
): OperationOutcomeIssue[] {
  if (shapeIssues.length === 0) {
    return issues;
  }
  const prefixes = shapeIssues.map((issue) => `${issue.expression?.[0]}.`);
  return issues.filter((issue) => !prefixes.some((prefix) => issue.expression?.[0]?.startsWith(prefix)));
}

/** The base run and a profile run report the same violation (and collect the same tokens) twice. */
function withoutDuplicates(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = [issue.code, issue.expression?.join(','), issue.details?.text, issue.diagnostics].join('\n');
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

function invalid(issues: OperationOutcomeIssue[]): OperationOutcomeError {
  return new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: issues });
}

function unknownResourceTypeIssue(resourceType: unknown): OperationOutcomeIssue {
  return {
    severity: 'error',
    code: 'invalid',
    details: { text: `Unknown resource type ${JSON.stringify(resourceType) ?? 'undefined'}` },
    expression: ['resourceType'],
  };
}

function profileTypeMismatchIssue(profile: StructureDefinition, resourceType: string): OperationOutcomeIssue {
  return {
    severity: 'error',
    code: 'invalid',
    details: { text: `Profile ${profile.url} constrains ${profile.type}, not ${resourceType}` },
    expression: [`${resourceType}.meta.profile`],
  };
}
