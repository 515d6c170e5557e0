import { OperationOutcomeError, allOk, badRequest, created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';
import type { HaleRepository } from '../../storage/repository';

/** PUT [type]/[id]: update, or update-as-create with the client's id (201). */
export async function updateHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const { resourceType, id } = req.params;
  const resource = req.body as Resource | undefined;
  if (!resource || resource.resourceType !== resourceType) {
    throw new OperationOutcomeError(badRequest(`Expected a ${resourceType} in the body`));
  }
  if (resource.id !== id) {
    throw new OperationOutcomeError(
      badRequest(`The id in the body (${resource.id ?? 'none'}) must equal the id in the URL (${id})`)
    );
  }
  const ifMatch = /"([^"]+)"/.exec(singleHeader(req.headers?.['if-match']) ?? '')?.[1];
  const result = await repo.updateResourceWithOutcome(resource, { ifMatch });
  return [result.created ? created : allOk, result.resource];
}

function singleHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
