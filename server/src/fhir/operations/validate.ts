import { OperationOutcomeError, allOk, badRequest } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, OperationOutcome, Parameters, Resource } from '@medplum/fhirtypes';
import { validateResourceForWrite } from '../../validation/validate';

export const validateOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  url: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  name: 'validate',
  status: 'active',
  kind: 'operation',
  code: 'validate',
  // 'Resource' is what the spec's own definition lists: the operation applies to every type.
  resource: ['Resource'] as unknown as OperationDefinition['resource'],
  system: false,
  type: true,
  instance: true,
  parameter: [
    { name: 'resource', use: 'in', min: 0, max: '1', type: 'Resource' },
    { name: 'mode', use: 'in', min: 0, max: '1', type: 'code' },
    { name: 'profile', use: 'in', min: 0, max: '1', type: 'uri' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'OperationOutcome' },
  ],
};

/**
 * $validate (type and instance level): the body is the resource, or Parameters with a
 * `resource` part. Answers 200 with the OperationOutcome of the validation; nothing is stored.
 */
export async function validateHandler(req: FhirRequest): Promise<FhirResponse> {
  const body = req.body as Resource | Parameters | undefined;
  const resource =
    body?.resourceType === 'Parameters'
      ? body.parameter?.find((p) => p.name === 'resource')?.resource
      : (body as Resource | undefined);
  if (!resource || typeof resource !== 'object' || !('resourceType' in resource)) {
    throw new OperationOutcomeError(badRequest('$validate needs a resource (or Parameters with a resource part)'));
  }
  const expected = req.params.resourceType;
  if (expected && resource.resourceType !== expected) {
    throw new OperationOutcomeError(badRequest(`Expected a ${expected}, got ${resource.resourceType}`));
  }
  try {
    validateResourceForWrite(resource);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return [allOk, err.outcome];
    }
    throw err;
  }
  const ok: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', details: { text: 'Validation successful' } }],
  };
  return [allOk, ok];
}
