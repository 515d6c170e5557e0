import { OperationOutcomeError, allOk, badRequest } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { HaleRepository } from '../../storage/repository';
import { parseHaleSearch } from '../search-request';

/** GET [type], POST [type]/_search (form parameters in the body) and GET / with _type. */
export async function searchHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const resourceType = req.params.resourceType;
  const query =
    req.method === 'POST' && req.body && typeof req.body === 'object' ? { ...req.query, ...req.body } : req.query;
  if (!resourceType) {
    const request = parseHaleSearch('Resource', query);
    if (!request.types?.length) {
      throw new OperationOutcomeError(badRequest('A system-level search needs _type'));
    }
    return [allOk, await repo.search({ ...request, resourceType: request.types[0] as 'Patient' })];
  }
  return [allOk, await repo.search(parseHaleSearch(resourceType, query))];
}
