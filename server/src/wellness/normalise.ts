import type { ObservationComponent, Quantity, Resource } from '@medplum/fhirtypes';
import type { Measurement, UnitRule } from './measurements';
import { ORIGINAL_QUANTITY_EXTENSION, UCUM, componentRule, measurementsOf } from './measurements';
import { convert, displayOf } from './units';

/**
 * Pre-write step: a measurement Observation's value (and its components' values) in a UCUM unit its profile
 * accepts is stored in the profile's unit, with the quantity as written kept in the original-quantity extension
 * on the converted quantity (ADR 0006). Runs on every write of every caller, before validation and indexing, so
 * what is validated, stored, searched and aggregated is the converted value.
 *
 * Runs before validation, so it takes nothing for granted: anything malformed is left alone for the validator
 * to report. Units outside UCUM, or UCUM units the profile does not accept, are left as written too (a required
 * profile then rejects them, naming the element).
 */
export function normaliseMeasurements(resource: Resource): void {
  if (resource.resourceType !== 'Observation') {
    return;
  }
  const obs = resource;
  const measurements = measurementsOf(isObject(obs.code) ? obs.code : undefined);
  const measurement = measurements[0];
  if (!measurement) {
    return;
  }
  if (measurement.value.kind === 'quantity' && isObject(obs.valueQuantity)) {
    obs.valueQuantity = normalised(obs.valueQuantity, measurement.value);
  }
  if (measurement.components && Array.isArray(obs.component)) {
    obs.component = obs.component.map((c) => normalisedComponent(c, measurement));
  }
}

function normalisedComponent(component: ObservationComponent, measurement: Measurement): ObservationComponent {
  if (!isObject(component) || !isObject(component.valueQuantity)) {
    return component;
  }
  const rule = componentRule(measurement, isObject(component.code) ? component.code : undefined);
  return rule ? { ...component, valueQuantity: normalised(component.valueQuantity, rule) } : component;
}

/** The quantity in the rule's unit, or the quantity itself when it already is, or cannot be converted. */
function normalised(q: Quantity, rule: UnitRule): Quantity {
  const { value, system, code } = q;
  if (system !== UCUM || typeof code !== 'string' || typeof value !== 'number' || !Number.isFinite(value)) {
    return q;
  }
  if (code === rule.unit || !rule.accepts.includes(code)) {
    return q;
  }
  const converted = convert(value, code, rule.unit);
  if (converted === undefined) {
    return q;
  }
  const { extension, ...written } = q;
  // An original from an earlier conversion describes a value this write replaces.
  const kept = Array.isArray(extension) ? extension.filter((e) => e?.url !== ORIGINAL_QUANTITY_EXTENSION) : [];
  return {
    ...written,
    value: converted,
    unit: displayOf(rule.unit),
    system: UCUM,
    code: rule.unit,
    extension: [...kept, { url: ORIGINAL_QUANTITY_EXTENSION, valueQuantity: written }],
  };
}

function isObject<T>(v: T | undefined): v is T & object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
