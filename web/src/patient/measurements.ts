import type { Observation } from '@medplum/fhirtypes';

/*
 * The measurements the portal enters, each written to satisfy Hale's measurement profile for it
 * (docs/wellness.md): LOINC code, category vital-signs, a Patient subject, an effective time and the value in
 * the profile's UCUM unit. Hale adds the profile to meta.profile itself for a patient's writes.
 */

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const VITAL_SIGNS = [
  {
    coding: [
      {
        system: 'http://terminology.hl7.org/CodeSystem/observation-category',
        code: 'vital-signs',
        display: 'Vital Signs',
      },
    ],
  },
];

export type MeasurementKind = 'blood-pressure' | 'heart-rate' | 'weight';

export interface MeasurementSpec {
  kind: MeasurementKind;
  label: string;
  code: string;
  /** The fields the form asks for, with the UCUM unit each is stored in. */
  fields: { name: string; label: string; unit: string; unitLabel: string; code?: string; min: number; max: number }[];
}

export const MEASUREMENTS: MeasurementSpec[] = [
  {
    kind: 'blood-pressure',
    label: 'Blood pressure',
    code: '85354-9',
    fields: [
      { name: 'systolic', label: 'Systolic', unit: 'mm[Hg]', unitLabel: 'mmHg', code: '8480-6', min: 40, max: 300 },
      { name: 'diastolic', label: 'Diastolic', unit: 'mm[Hg]', unitLabel: 'mmHg', code: '8462-4', min: 20, max: 200 },
    ],
  },
  {
    kind: 'heart-rate',
    label: 'Heart rate',
    code: '8867-4',
    fields: [{ name: 'value', label: 'Heart rate', unit: '/min', unitLabel: 'beats per minute', min: 20, max: 300 }],
  },
  {
    kind: 'weight',
    label: 'Weight',
    code: '29463-7',
    fields: [{ name: 'value', label: 'Weight', unit: 'kg', unitLabel: 'kg', min: 1, max: 500 }],
  },
];

export function specOf(kind: MeasurementKind): MeasurementSpec {
  return MEASUREMENTS.find((m) => m.kind === kind) as MeasurementSpec;
}

const quantity = (value: number, unit: string, unitLabel: string) => ({
  value,
  unit: unitLabel,
  system: UCUM,
  code: unit,
});

/** A profile-valid Observation for one reading; values are keyed by the spec's field names. */
export function buildObservation(
  kind: MeasurementKind,
  patientId: string,
  values: Record<string, number>,
  effective: Date
): Observation {
  const spec = specOf(kind);
  const base: Observation = {
    resourceType: 'Observation',
    status: 'final',
    category: VITAL_SIGNS,
    code: { coding: [{ system: LOINC, code: spec.code, display: spec.label }], text: spec.label },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: effective.toISOString(),
  };
  if (kind === 'blood-pressure') {
    return {
      ...base,
      component: spec.fields.map((f) => ({
        code: { coding: [{ system: LOINC, code: f.code as string, display: `${f.label} blood pressure` }] },
        valueQuantity: quantity(values[f.name] as number, f.unit, f.unitLabel),
      })),
    };
  }
  const [field] = spec.fields;
  return { ...base, valueQuantity: quantity(values['value'] as number, field?.unit ?? '', field?.unitLabel ?? '') };
}

/** "120/80 mmHg", "64 beats per minute", "72.5 kg" for a stored reading. */
export function formatReading(obs: Observation): string {
  if (obs.component?.length) {
    const sys = obs.component.find((c) => c.code.coding?.some((x) => x.code === '8480-6'))?.valueQuantity;
    const dia = obs.component.find((c) => c.code.coding?.some((x) => x.code === '8462-4'))?.valueQuantity;
    if (sys && dia) {
      return `${sys.value}/${dia.value} ${sys.unit ?? sys.code ?? ''}`.trim();
    }
  }
  const q = obs.valueQuantity;
  return q ? `${q.value} ${q.unit ?? q.code ?? ''}`.trim() : (obs.valueString ?? '—');
}

export function readingLabel(obs: Observation): string {
  return obs.code.text ?? obs.code.coding?.[0]?.display ?? obs.code.coding?.[0]?.code ?? 'Measurement';
}
