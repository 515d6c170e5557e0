import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import { readHistoryBundle } from '../../storage/history';
import { assertResourceType } from '../../storage/prepare';
import type { HaleRepository } from '../../storage/repository';
import { single } from './everything';

/** GET [type]/_history and GET /_history (the router itself only serves instance history). */
export async function historyHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const resourceType = req.params.resourceType;
  if (resourceType) {
    assertResourceType(resourceType);
    repo.ctx.access.checkInteraction(resourceType, 'read');
  }
  const count = single(req.query._count);
  const bundle = await readHistoryBundle(repo.queryable, repo.ctx, {
    resourceType,
    since: single(req.query._since),
    at: single(req.query._at),
    cursor: single(req.query._cursor),
    count: count === undefined ? undefined : Number.parseInt(count, 10),
  });
  return [allOk, bundle];
}
