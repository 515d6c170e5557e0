import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import { readHistoryBundle } from '../../storage/history';
import { assertResourceType } from '../../storage/prepare';
import type { HaleRepository } from '../../storage/repository';
import { single } from './everything';

/** GET [type]/[id]/_history, [type]/_history and /_history, with _count, _since, _at and paging. */
export async function historyHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const { resourceType, id } = req.params;
  if (resourceType) {
    assertResourceType(resourceType);
    repo.ctx.access.checkInteraction(resourceType, 'read');
  }
  if (resourceType && id) {
    await repo.assertVisible(resourceType, id);
  }
  const count = single(req.query._count);
  const bundle = await readHistoryBundle(repo.queryable, repo.ctx, {
    resourceType,
    id,
    since: single(req.query._since),
    at: single(req.query._at),
    cursor: single(req.query._cursor),
    count: count === undefined ? undefined : Number.parseInt(count, 10),
  });
  return [allOk, bundle];
}
