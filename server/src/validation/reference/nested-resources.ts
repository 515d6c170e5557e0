import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { isResourceType } from '@medplum/core';

type JsonObject = Record<string, unknown>;

/**
 * Checks the resourceType of every resource nested in another one. In R4 resources nest only in
 * DomainResource.contained, Bundle.entry.resource, Bundle.entry.response.outcome and
 * Parameters.parameter(.part).resource. @medplum/core aborts its whole validation with an issue that names no
 * element when it meets an unknown type there, and silently validates a nested object without resourceType
 * against the abstract Resource type; this check names the offending element in both cases.
 */
export function checkNestedResourceTypes(resource: JsonObject, path: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  visitResource(resource, path, issues);
  return issues;
}

function visitResource(resource: JsonObject, path: string, issues: OperationOutcomeIssue[]): void {
  forEachObject(resource.contained, `${path}.contained`, (value, p) => visitNested(value, p, issues));
  if (resource.resourceType === 'Bundle') {
    forEachObject(resource.entry, `${path}.entry`, (entry, p) => {
      visitNested(entry.resource, `${p}.resource`, issues);
      const response = entry.response;
      if (isObject(response)) {
        visitNested(response.outcome, `${p}.response.outcome`, issues);
      }
    });
  } else if (resource.resourceType === 'Parameters') {
    visitParameters(resource.parameter, `${path}.parameter`, issues);
  }
}

function visitParameters(parameters: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  forEachObject(parameters, path, (parameter, p) => {
    visitNested(parameter.resource, `${p}.resource`, issues);
    visitParameters(parameter.part, `${p}.part`, issues);
  });
}

/** Non-objects are left to the structural validator, which reports them with a type error. */
function visitNested(value: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  if (!isObject(value)) {
    return;
  }
  const resourceType = value.resourceType;
  if (typeof resourceType !== 'string') {
    issues.push(issue(path, 'Nested resource has no resourceType'));
  } else if (!isResourceType(resourceType)) {
    issues.push(issue(path, `Unknown resource type ${JSON.stringify(resourceType)}`));
  } else {
    visitResource(value, path, issues);
  }
}

function forEachObject(array: unknown, path: string, fn: (value: JsonObject, path: string) => void): void {
  if (!Array.isArray(array)) {
    return;
  }
  for (let i = 0; i < array.length; i++) {
    const value: unknown = array[i];
    if (isObject(value)) {
      fn(value, `${path}[${i}]`);
    }
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function issue(path: string, text: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'invalid', details: { text }, expression: [path] };
}
