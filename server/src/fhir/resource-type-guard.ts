import { OperationOutcomeError, badRequest } from '@medplum/core';

/**
 * In FHIR JSON `resourceType` is always a string. An object or array there (`{"resourceType":{"toString":0}}`)
 * reached code that formats it into a message or a key, and formatting an object whose toString is not a function
 * throws a TypeError: a 500 (found by the fuzz suite, server/src/fuzz/). Checked once where a request body enters
 * the FHIR router, for the body and a Bundle's entries, which are all the resources the router hands on whole.
 */
export function assertStringResourceTypes(body: unknown): void {
  if (!isObject(body) || !('resourceType' in body)) {
    return;
  }
  if (typeof body.resourceType !== 'string') {
    throw new OperationOutcomeError(badRequest('resourceType must be a string', 'resourceType'));
  }
  if (body.resourceType !== 'Bundle' || !Array.isArray(body.entry)) {
    return;
  }
  body.entry.forEach((entry: unknown, i) => {
    const resource = isObject(entry) ? entry.resource : undefined;
    if (isObject(resource) && typeof resource.resourceType !== 'string') {
      throw new OperationOutcomeError(
        badRequest(`Bundle.entry[${i}].resource.resourceType must be a string`, `Bundle.entry[${i}].resource`)
      );
    }
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
