import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { BindingTokens } from './bindings';
import { validateAgainstProfile } from './profile-schemas';
import { findProfile } from './profiles';

/**
 * Running @medplum/core's validator and tidying what it reports. The reference implementation runs it for the
 * base definitions and for profiles; the compiled validator only for the profiles in meta.profile.
 */

/**
 * Runs core's validator, which throws once it has gathered all issues of a resource. The tokens object is
 * filled even when it throws, so binding problems are still reported alongside structural ones. `explained`
 * says whether other checks already found problems that can make core throw a plain Error.
 */
export function runCoreValidator(
  resource: Resource,
  profile: StructureDefinition | undefined,
  tokens: BindingTokens,
  issues: OperationOutcomeIssue[],
  explained: boolean
): void {
  try {
    if (profile) {
      validateAgainstProfile(resource, profile, { collect: { tokens } });
    } else {
      validateResource(resource, { collect: { tokens } });
    }
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      issues.push(...(err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal'));
      return;
    }
    // Core throws plain Errors on input it cannot handle (e.g. malformed `_x` properties). When other checks
    // already found a problem, that is the cause; otherwise it is a genuine server bug.
    if (!explained) {
      throw err;
    }
  }
}

/** The known profiles in meta.profile; unknown ones are ignored, as HAPI does by default. */
export function declaredProfiles(resource: Resource): StructureDefinition[] {
  const urls: unknown = (resource as { meta?: { profile?: unknown } }).meta?.profile;
  // A malformed meta.profile is reported by the structural check; here we only look for profiles to apply.
  if (!Array.isArray(urls)) {
    return [];
  }
  return urls
    .filter((url): url is string => typeof url === 'string')
    .map(findProfile)
    .filter((sd): sd is StructureDefinition => sd !== undefined);
}

export function profileTypeMismatchIssue(profile: StructureDefinition, resourceType: string): OperationOutcomeIssue {
  return {
    severity: 'error',
    code: 'invalid',
    details: { text: `Profile ${profile.url} constrains ${profile.type}, not ${resourceType}` },
    expression: [`${resourceType}.meta.profile`],
  };
}

/**
 * Core reports a few problems without naming an element, chiefly 'Unknown data type' when it aborts on a
 * nested resource of unknown type. Those are dropped when another check already located the cause,
 * otherwise attributed to the resource as a whole so every issue carries an expression.
 */
export function locateIssues(
  issues: OperationOutcomeIssue[],
  resourceType: string,
  causeLocated: boolean
): OperationOutcomeIssue[] {
  const located = issues.filter((issue) => issue.expression?.length || !causeLocated);
  return located.map((issue) => (issue.expression?.length ? issue : { ...issue, expression: [resourceType] }));
}

/**
 * Where a value was rejected as a whole (e.g. a string for a CodeableConcept), core reports nonsense below it,
 * such as 'Invalid additional property "0"' for each character index.
 */
export function withoutNoiseBelow(
  issues: OperationOutcomeIssue[],
  rejected: OperationOutcomeIssue[]
): OperationOutcomeIssue[] {
  if (rejected.length === 0) {
    return issues;
  }
  const prefixes = rejected.map((issue) => `${issue.expression?.[0]}.`);
  return issues.filter((issue) => !prefixes.some((prefix) => issue.expression?.[0]?.startsWith(prefix)));
}

/** Two runs (base and profile, or two profiles) report the same violation twice. */
export function withoutDuplicates(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
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

export function invalid(issues: OperationOutcomeIssue[]): OperationOutcomeError {
  return new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: issues });
}

export function unknownResourceTypeIssue(resourceType: unknown): OperationOutcomeIssue {
  return {
    severity: 'error',
    code: 'invalid',
    details: { text: `Unknown resource type ${JSON.stringify(resourceType) ?? 'undefined'}` },
    expression: ['resourceType'],
  };
}
