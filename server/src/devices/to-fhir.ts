import { createHash } from 'node:crypto';
import type { Device, Observation, ObservationComponent, Quantity } from '@medplum/fhirtypes';
import { HALE_FHIR, OBSERVATION_CATEGORY_SYSTEM, WELLNESS_CATEGORY_SYSTEM } from '../access/consent/vocabulary';
import type { Measurement, UnitRule } from '../wellness/measurements';
import { MEASUREMENTS, UCUM, componentRule } from '../wellness/measurements';
import { displayOf } from '../wellness/units';
import type { Reading, SourceDevice, Value } from './readings';

/**
 * Readings as FHIR: an Observation claiming the measurement's Hale profile (so the write path validates it against
 * the profile and converts its units, server/src/wellness/normalise.ts), and one Device per source device.
 *
 * Both carry a deterministic identifier — a hash of the patient, the device and, for a reading, its measurement
 * and time — and are written as conditional creates on it: importing the same reading again, from the same file
 * or a later export, finds the stored one instead of creating a second (docs/device-imports.md).
 */

export const READING_IDENTIFIER = `${HALE_FHIR}/device-import/reading`;
export const DEVICE_IDENTIFIER = `${HALE_FHIR}/device-import/device`;

const BY_KEY = new Map(MEASUREMENTS.map((m) => [m.key, m]));

/** Observation.category per measurement; vital-signs unless listed (the profiles fix these). */
const CATEGORY: Readonly<Record<string, [string, string]>> = {
  'blood-glucose': [OBSERVATION_CATEGORY_SYSTEM, 'laboratory'],
  'sleep-duration': [WELLNESS_CATEGORY_SYSTEM, 'sleep'],
  steps: [OBSERVATION_CATEGORY_SYSTEM, 'activity'],
  'active-energy': [OBSERVATION_CATEGORY_SYSTEM, 'activity'],
};

/** The measurements whose profiles take an effectivePeriod; the others are readings at an instant (the start). */
const OVER_A_PERIOD = new Set(['steps', 'active-energy', 'sleep-duration']);

const hash = (parts: readonly string[]): string =>
  createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 32);

/**
 * A source device is known by its name: Apple Health names the same watch on records that say which hardware it is
 * and on daily values that do not; every other export names its one device.
 */
export function deviceKey(d: SourceDevice): string {
  return d.name;
}

export function deviceIdentifier(patientId: string, d: SourceDevice): string {
  return hash([patientId, deviceKey(d)]);
}

export function readingIdentifier(patientId: string, r: Reading): string {
  return hash([patientId, deviceKey(r.device), r.key, r.start, r.end ?? '']);
}

export function deviceResource(patientId: string, d: SourceDevice): Device {
  return {
    resourceType: 'Device',
    identifier: [{ system: DEVICE_IDENTIFIER, value: deviceIdentifier(patientId, d) }],
    status: 'active',
    ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
    ...(d.model ? { modelNumber: d.model } : {}),
    deviceName: [{ name: d.name, type: 'user-friendly-name' }],
    ...(d.version ? { version: [{ value: d.version }] } : {}),
    patient: { reference: `Patient/${patientId}` },
  };
}

const accepts = (rule: UnitRule, unit: string): boolean => unit === rule.unit || rule.accepts.includes(unit);
const quantity = (v: Value): Quantity => ({ value: v.value, unit: displayOf(v.unit), system: UCUM, code: v.unit });

/** Why Hale cannot store this reading as its measurement, or undefined when it can. */
export function problemOf(r: Reading): string | undefined {
  const m = BY_KEY.get(r.key);
  if (!m) {
    return `no Hale measurement '${r.key}'`;
  }
  if (m.value.kind === 'quantity' && (!r.value || !accepts(m.value, r.value.unit))) {
    return `${m.key} in '${r.value?.unit ?? 'no unit'}': Hale takes ${[m.value.unit, ...m.value.accepts].join(', ')}`;
  }
  for (const c of r.components ?? []) {
    const rule = componentRule(m, { coding: [c.code] });
    if (!rule || !accepts(rule, c.unit)) {
      return `${m.key} component ${c.code.code} in '${c.unit}' is not one Hale takes`;
    }
  }
  return undefined;
}

function component(r: Reading): ObservationComponent[] | undefined {
  return r.components?.length
    ? r.components.map((c) => ({ code: { coding: [{ ...c.code }] }, valueQuantity: quantity(c) }))
    : undefined;
}

/** The Observation of a reading (check problemOf first). */
export function observationOf(patientId: string, r: Reading, device: string): Observation {
  const m = BY_KEY.get(r.key) as Measurement;
  const [system, code] = CATEGORY[r.key] ?? [OBSERVATION_CATEGORY_SYSTEM, 'vital-signs'];
  const components = component(r);
  return {
    resourceType: 'Observation',
    meta: { profile: [m.profile] },
    identifier: [{ system: READING_IDENTIFIER, value: readingIdentifier(patientId, r) }],
    status: 'final',
    category: [{ coding: [{ system, code }] }],
    code: { coding: [{ ...(m.codes[0] as { system: string; code: string }) }] },
    subject: { reference: `Patient/${patientId}` },
    ...(r.end && r.end !== r.start && OVER_A_PERIOD.has(r.key)
      ? { effectivePeriod: { start: r.start, end: r.end } }
      : { effectiveDateTime: r.start }),
    ...(r.value ? { valueQuantity: quantity(r.value) } : {}),
    ...(components ? { component: components } : {}),
    ...(r.method ? { method: { text: r.method } } : {}),
    device: { reference: device },
  };
}
