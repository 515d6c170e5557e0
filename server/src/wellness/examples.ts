import type { Observation, ObservationComponent, Quantity } from '@medplum/fhirtypes';
import { OBSERVATION_CATEGORY_SYSTEM, WELLNESS_CATEGORY_SYSTEM } from '../access/consent/vocabulary';
import type { Measurement } from './measurements';
import {
  GLUCOSE_MEAL_CONTEXT_EXTENSION,
  GLUCOSE_MEAL_CONTEXT_SYSTEM,
  HALE_OBSERVATION_CODE,
  LOINC,
  MEASUREMENTS,
  UCUM,
} from './measurements';

/** Test support: a conformant reading of each measurement, and one way to break each profile. */

export const ucum = (value: number, code: string, unit = code): Quantity => ({ value, unit, system: UCUM, code });

const category = (system: string, code: string): Observation['category'] => [{ coding: [{ system, code }] }];
const VITAL_SIGNS = category(OBSERVATION_CATEGORY_SYSTEM, 'vital-signs');

export const component = (system: string, code: string, value: Quantity): ObservationComponent => ({
  code: { coding: [{ system, code }] },
  valueQuantity: value,
});

const VALUES: Record<string, Partial<Observation>> = {
  'blood-pressure': {
    component: [
      component(LOINC, '8480-6', ucum(128, 'mm[Hg]', 'mmHg')),
      component(LOINC, '8462-4', ucum(82, 'mm[Hg]', 'mmHg')),
    ],
  },
  'heart-rate': { valueQuantity: ucum(64, '/min') },
  'resting-heart-rate': { valueQuantity: ucum(52, '/min') },
  'respiratory-rate': { valueQuantity: ucum(14, '/min') },
  'oxygen-saturation': { valueQuantity: ucum(97, '%') },
  'body-temperature': { valueQuantity: ucum(36.8, 'Cel', '°C') },
  'body-weight': { valueQuantity: ucum(72.5, 'kg') },
  'body-height': { valueQuantity: ucum(178, 'cm') },
  bmi: { valueQuantity: ucum(22.9, 'kg/m2') },
  'waist-circumference': { valueQuantity: ucum(84, 'cm') },
  'hrv-sdnn': { valueQuantity: ucum(48, 'ms'), method: { text: 'Apple Watch, 60 s PPG window' } },
  'hrv-rmssd': { valueQuantity: ucum(41, 'ms'), method: { text: 'Oura ring, nightly average' } },
  'blood-glucose': {
    valueQuantity: ucum(95, 'mg/dL'),
    extension: [
      { url: GLUCOSE_MEAL_CONTEXT_EXTENSION, valueCoding: { system: GLUCOSE_MEAL_CONTEXT_SYSTEM, code: 'fasting' } },
    ],
  },
  'sleep-duration': {
    valueQuantity: ucum(432, 'min'),
    component: [
      component(HALE_OBSERVATION_CODE, 'sleep-deep', ucum(84, 'min')),
      component(HALE_OBSERVATION_CODE, 'sleep-rem', ucum(101, 'min')),
      component(HALE_OBSERVATION_CODE, 'sleep-light', ucum(247, 'min')),
      component(HALE_OBSERVATION_CODE, 'sleep-awake', ucum(23, 'min')),
    ],
    effectivePeriod: { start: '2026-03-01T23:10:00Z', end: '2026-03-02T06:45:00Z' },
  },
  steps: { valueQuantity: ucum(8412, '{steps}', 'steps'), effectivePeriod: { start: '2026-03-02', end: '2026-03-02' } },
  'active-energy': { valueQuantity: ucum(412, 'kcal') },
  mood: { valueInteger: 4 },
};

const CATEGORIES: Record<string, Observation['category']> = {
  'blood-glucose': category(OBSERVATION_CATEGORY_SYSTEM, 'laboratory'),
  'sleep-duration': category(WELLNESS_CATEGORY_SYSTEM, 'sleep'),
  steps: category(OBSERVATION_CATEGORY_SYSTEM, 'activity'),
  'active-energy': category(OBSERVATION_CATEGORY_SYSTEM, 'activity'),
  mood: category(WELLNESS_CATEGORY_SYSTEM, 'wellness'),
};

export function measurement(key: string): Measurement {
  const m = MEASUREMENTS.find((x) => x.key === key);
  if (!m) {
    throw new Error(`no measurement ${key}`);
  }
  return m;
}

/** A reading that conforms to the measurement's profile (without claiming it). */
export function validReading(key: string, patientId: string, effective = '2026-03-02T07:30:00Z'): Observation {
  const m = measurement(key);
  const { effectivePeriod, ...value } = VALUES[key] ?? {};
  return {
    resourceType: 'Observation',
    status: 'final',
    category: CATEGORIES[key] ?? VITAL_SIGNS,
    code: { coding: [{ ...m.codes[0] }] },
    subject: { reference: `Patient/${patientId}` },
    ...(effectivePeriod ? { effectivePeriod } : { effectiveDateTime: effective }),
    ...structuredClone(value),
  };
}

/** For each profile: a change that breaks it, and the elements the 400 names. */
export const BREAKS: Record<string, { change: (o: Observation) => Observation; elements: string[] }> = {
  'blood-pressure': {
    change: ({ component: _c, ...o }) => o,
    elements: ['Observation', 'Observation.component'],
  },
  'heart-rate': {
    change: (o) => ({ ...o, valueQuantity: { value: 64, unit: 'bpm' } }),
    elements: ['Observation.value[x]'],
  },
  'resting-heart-rate': { change: (o) => ({ ...o, valueQuantity: ucum(1, '/s') }), elements: ['Observation.value[x]'] },
  'respiratory-rate': {
    change: ({ valueQuantity: _v, ...o }) => ({ ...o, valueString: 'fourteen' }),
    elements: ['Observation.value[x]'],
  },
  'oxygen-saturation': {
    change: (o) => ({ ...o, code: { coding: [{ system: LOINC, code: '20564-1' }] } }),
    elements: ['Observation.code'],
  },
  'body-temperature': { change: (o) => ({ ...o, valueQuantity: ucum(98.6, 'F') }), elements: ['Observation.value[x]'] },
  'body-weight': { change: ({ subject: _s, ...o }) => o, elements: ['Observation.subject'] },
  'body-height': { change: (o) => ({ ...o, subject: { reference: 'Group/1' } }), elements: ['Observation.subject'] },
  bmi: { change: ({ effectiveDateTime: _e, ...o }) => o, elements: ['Observation.effective[x]'] },
  'waist-circumference': {
    change: (o) => ({ ...o, valueQuantity: ucum(33, '[in_us]') }),
    elements: ['Observation.value[x]'],
  },
  'hrv-sdnn': { change: ({ method: _m, ...o }) => o, elements: ['Observation.method'] },
  'hrv-rmssd': { change: (o) => ({ ...o, valueQuantity: ucum(0.7, 'min') }), elements: ['Observation.value[x]'] },
  'blood-glucose': {
    change: (o) => ({
      ...o,
      extension: [
        { url: GLUCOSE_MEAL_CONTEXT_EXTENSION, valueCoding: { system: GLUCOSE_MEAL_CONTEXT_SYSTEM, code: 'lunch' } },
      ],
    }),
    elements: ['Observation'],
  },
  'sleep-duration': {
    change: (o) => ({ ...o, component: [component(HALE_OBSERVATION_CODE, 'sleep-dream', ucum(5, 'min'))] }),
    elements: ['Observation.component[0]'],
  },
  steps: { change: (o) => ({ ...o, category: VITAL_SIGNS }), elements: ['Observation.category[0]'] },
  'active-energy': {
    change: (o) => ({ ...o, valueQuantity: { value: 412, code: 'kcal' } }),
    elements: ['Observation.value[x]'],
  },
  mood: { change: (o) => ({ ...o, valueInteger: 7 }), elements: ['Observation.value[x]'] },
};
