import { haleConformanceResources } from '@hale/fhir-profiles';
import type { Resource } from '@medplum/fhirtypes';
import type { Database } from '../db/database';
import { sql } from '../db/sql';
import { FEEDBACK_FORM } from '../marketplace/feedback-form';
import { systemAccess } from '../storage/access';
import { HaleRepository } from '../storage/repository';
import type { SearchParamRegistry } from '../storage/search-params';
import { registerProfiles } from './profiles';
import { registerTerminology } from './terminology';

/** Taken while publishing, so servers starting together do not race to create version 1 of the same resource. */
const PUBLISH_LOCK = 7220432;

let registered = false;

/**
 * Makes Hale's profiles (fhir-profiles/) known to the validator, so a resource naming one in meta.profile is
 * validated against it, and their CodeSystems/ValueSets known to the binding checks. Idempotent. Throws when
 * the validator cannot handle a profile: silently ignoring Hale's own profiles would accept what they forbid.
 */
export function registerHaleProfiles(): void {
  if (registered) {
    return;
  }
  const { codeSystems, valueSets, structureDefinitions } = haleConformanceResources();
  registerTerminology([...codeSystems, ...valueSets]);
  const rejected = registerProfiles(structureDefinitions);
  if (rejected.length > 0) {
    throw new Error(`The validator cannot handle Hale's profiles ${rejected.join(', ')}`);
  }
  registered = true;
}

/**
 * Stores Hale's conformance resources under their stable ids (CodeSystem/hale-data-category, ...) so clients can
 * read them through the API. The files are the source of truth: a stored copy that differs is overwritten, and
 * an unchanged one keeps its version (the repository skips updates that change nothing).
 */
export async function publishHaleConformance(
  db: Database,
  searchParams: SearchParamRegistry,
  baseUrl: string
): Promise<void> {
  const { codeSystems, valueSets, structureDefinitions, searchParameters } = haleConformanceResources();
  const resources: Resource[] = [
    ...codeSystems,
    ...valueSets,
    ...structureDefinitions,
    ...searchParameters,
    FEEDBACK_FORM,
  ];
  await db.transaction(async (tx) => {
    await tx.query(sql`SELECT pg_advisory_xact_lock(${PUBLISH_LOCK})`);
    const repo = new HaleRepository({ db, tx, access: systemAccess, searchParams, baseUrl, validate: true });
    for (const resource of resources) {
      await repo.updateResource(resource);
    }
  });
}
