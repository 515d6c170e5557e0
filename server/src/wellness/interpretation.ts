import type { CodeableConcept, Observation, ObservationReferenceRange, Quantity, Resource } from '@medplum/fhirtypes';
import { ORIGINAL_QUANTITY_EXTENSION } from './measurements';

export const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const FLAGS = { H: 'High', L: 'Low', N: 'Normal' } as const;

/**
 * Pre-write step: an Observation (or component) with a numeric value and a reference range, but no
 * interpretation, gets H, L or N from the range — the portal shows labs flagged against their reference ranges
 * (issue 16). The value is compared in the range's unit: the value as stored, or as written (the original-quantity
 * extension of a converted value, ADR 0006), never through a conversion the range's unit was not written for.
 * A range of another kind (`type` other than normal, or for an age or a subpopulation) or a value in a unit
 * no bound shares is left uninterpreted. An interpretation the writer gave is theirs and is kept.
 */
export function interpretReferenceRanges(resource: Resource): void {
  if (resource.resourceType !== 'Observation') {
    return;
  }
  const obs: Observation = resource;
  const own = interpretation(obs.valueQuantity, obs.referenceRange, obs.interpretation);
  if (own) {
    obs.interpretation = [own];
  }
  if (Array.isArray(obs.component)) {
    obs.component = obs.component.map((c) => {
      const flag = isObject(c) ? interpretation(c.valueQuantity, c.referenceRange, c.interpretation) : undefined;
      return flag ? { ...c, interpretation: [flag] } : c;
    });
  }
}

function interpretation(
  value: Quantity | undefined,
  ranges: ObservationReferenceRange[] | undefined,
  given: CodeableConcept[] | undefined
): CodeableConcept | undefined {
  if (given !== undefined || !isObject(value) || !Array.isArray(ranges)) {
    return undefined;
  }
  const range = ranges.find((r) => isObject(r) && isPlainNormal(r));
  if (!range) {
    return undefined;
  }
  const low = comparable(value, range.low);
  const high = comparable(value, range.high);
  if (low === undefined && high === undefined) {
    return undefined;
  }
  const code =
    low !== undefined && low.value < low.bound ? 'L' : high !== undefined && high.value > high.bound ? 'H' : 'N';
  return { coding: [{ system: INTERPRETATION_SYSTEM, code, display: FLAGS[code] }], text: FLAGS[code] };
}

/** A normal range for everyone: no type or type "normal", no age and no `appliesTo` subpopulation. */
function isPlainNormal(r: ObservationReferenceRange): boolean {
  const types = r.type?.coding ?? [];
  const normal = types.length === 0 || types.some((c) => c.code === 'normal');
  return normal && r.age === undefined && r.appliesTo === undefined;
}

/** The value and the bound in the bound's unit: the stored value, or the value as written when the bound is in its unit. */
function comparable(value: Quantity, bound: Quantity | undefined): { value: number; bound: number } | undefined {
  if (!isObject(bound) || typeof bound.value !== 'number') {
    return undefined;
  }
  const original = value.extension?.find((e) => e?.url === ORIGINAL_QUANTITY_EXTENSION)?.valueQuantity;
  for (const q of [value, original]) {
    if (q && typeof q.value === 'number' && sameUnit(q, bound)) {
      return { value: q.value, bound: bound.value };
    }
  }
  return undefined;
}

/** Same UCUM code, or (no codes) the same unit text. */
function sameUnit(a: Quantity, b: Quantity): boolean {
  if (a.code !== undefined || b.code !== undefined) {
    return a.code === b.code && (a.system ?? b.system) === (b.system ?? a.system);
  }
  return a.unit !== undefined && a.unit === b.unit;
}

function isObject<T>(v: T | undefined): v is T & object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
