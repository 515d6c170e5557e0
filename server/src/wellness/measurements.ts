import type { CodeableConcept } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../access/consent/vocabulary';

/**
 * Hale's measurements: which Observation codes each profile in fhir-profiles/ is about, the UCUM unit its value
 * is stored in and the units converted to it on write. The profiles say the same in FHIR
 * (measurements.test.ts fails when the two drift apart); the write path (normalise.ts, the profile requirement)
 * and $stats read this table.
 */

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const HALE_OBSERVATION_CODE = `${HALE_FHIR}/CodeSystem/observation-code`;
export const ORIGINAL_QUANTITY_EXTENSION = `${HALE_FHIR}/StructureDefinition/original-quantity`;
export const GLUCOSE_MEAL_CONTEXT_EXTENSION = `${HALE_FHIR}/StructureDefinition/glucose-meal-context`;
export const GLUCOSE_MEAL_CONTEXT_SYSTEM = `${HALE_FHIR}/CodeSystem/glucose-meal-context`;

export interface Code {
  system: string;
  code: string;
}

/** A value the write path converts: stored in `unit`, accepted (and converted) in `accepts`. */
export interface UnitRule {
  unit: string;
  accepts: readonly string[];
}

export interface Measurement {
  /** The profile's id without 'hale-' (blood-pressure, body-weight, …). */
  key: string;
  profile: string;
  /** The codes that make an Observation this measurement (any one of them). */
  codes: readonly Code[];
  /** The value: a UCUM quantity, a valueInteger (mood), or none of its own (a panel of components). */
  value: ({ kind: 'quantity' } & UnitRule) | { kind: 'integer' } | { kind: 'none' };
  /** Components whose values are converted, by component code. */
  components?: readonly ({ codes: readonly Code[] } & UnitRule)[];
}

const loinc = (code: string): Code => ({ system: LOINC, code });
const hale = (code: string): Code => ({ system: HALE_OBSERVATION_CODE, code });
const quantity = (unit: string, accepts: readonly string[] = []): Measurement['value'] => ({
  kind: 'quantity',
  unit,
  accepts,
});
const profile = (key: string): string => `${HALE_FHIR}/StructureDefinition/hale-${key}`;

const PER_MINUTE_BEATS = ['{beats}/min', '{beat}/min'];
const LENGTH = ['m', 'mm', '[in_i]', '[ft_i]'];
export const SLEEP_STAGES = ['sleep-deep', 'sleep-light', 'sleep-rem', 'sleep-awake'] as const;

const TABLE: readonly Omit<Measurement, 'profile'>[] = [
  {
    key: 'blood-pressure',
    codes: [loinc('85354-9')],
    value: { kind: 'none' },
    components: [{ codes: [loinc('8480-6'), loinc('8462-4')], unit: 'mm[Hg]', accepts: ['kPa'] }],
  },
  { key: 'heart-rate', codes: [loinc('8867-4')], value: quantity('/min', PER_MINUTE_BEATS) },
  { key: 'resting-heart-rate', codes: [loinc('40443-4')], value: quantity('/min', PER_MINUTE_BEATS) },
  { key: 'respiratory-rate', codes: [loinc('9279-1')], value: quantity('/min', ['{breaths}/min', '{breath}/min']) },
  { key: 'oxygen-saturation', codes: [loinc('59408-5'), loinc('2708-6')], value: quantity('%', ['1']) },
  { key: 'body-temperature', codes: [loinc('8310-5')], value: quantity('Cel', ['[degF]', 'K']) },
  {
    key: 'body-weight',
    codes: [loinc('29463-7')],
    value: quantity('kg', ['g', '[lb_av]', '[oz_av]', '[stone_av]']),
  },
  { key: 'body-height', codes: [loinc('8302-2')], value: quantity('cm', LENGTH) },
  { key: 'bmi', codes: [loinc('39156-5')], value: quantity('kg/m2') },
  { key: 'waist-circumference', codes: [loinc('8280-0')], value: quantity('cm', LENGTH) },
  { key: 'hrv-sdnn', codes: [loinc('80404-7')], value: quantity('ms', ['s']) },
  { key: 'hrv-rmssd', codes: [hale('hrv-rmssd')], value: quantity('ms', ['s']) },
  // mmol/L converts with glucose's molar mass only: no other measurement accepts it.
  { key: 'blood-glucose', codes: [loinc('2339-0')], value: quantity('mg/dL', ['mmol/L', 'g/L']) },
  {
    key: 'sleep-duration',
    codes: [loinc('93832-4')],
    value: quantity('min', ['s', 'h']),
    components: [{ codes: SLEEP_STAGES.map(hale), unit: 'min', accepts: ['s', 'h'] }],
  },
  { key: 'steps', codes: [loinc('55423-8')], value: quantity('{steps}', ['1', '{count}']) },
  { key: 'active-energy', codes: [loinc('41981-2')], value: quantity('kcal', ['kJ', '[Cal]', 'cal']) },
  { key: 'mood', codes: [hale('mood')], value: { kind: 'integer' } },
];

export const MEASUREMENTS: readonly Measurement[] = TABLE.map((m) => ({ ...m, profile: profile(m.key) }));

/** Every StructureDefinition the measurements rely on (fhir-profiles publishes them). */
export const MEASUREMENT_STRUCTURE_DEFINITIONS: readonly string[] = [
  ...MEASUREMENTS.map((m) => m.profile),
  ORIGINAL_QUANTITY_EXTENSION,
  GLUCOSE_MEAL_CONTEXT_EXTENSION,
];

const byCode = new Map<string, Measurement[]>();
for (const m of MEASUREMENTS) {
  for (const c of m.codes) {
    byCode.set(`${c.system}|${c.code}`, [...(byCode.get(`${c.system}|${c.code}`) ?? []), m]);
  }
}

/** The measurements an Observation.code names (usually one; none for codes Hale has no profile for). */
export function measurementsOf(code: CodeableConcept | undefined): Measurement[] {
  const codings = Array.isArray(code?.coding) ? code.coding : [];
  const found: Measurement[] = [];
  for (const coding of codings) {
    const hits = typeof coding?.code === 'string' ? byCode.get(`${coding.system}|${coding.code}`) : undefined;
    for (const m of hits ?? []) {
      if (!found.includes(m)) {
        found.push(m);
      }
    }
  }
  return found;
}

/** The measurement a code token (system|code) names, if any. */
export function measurementOfToken(system: string | undefined, code: string): Measurement | undefined {
  return system === undefined ? undefined : byCode.get(`${system}|${code}`)?.[0];
}

/** The unit rule for a component of this measurement, by the component's code. */
export function componentRule(m: Measurement, code: CodeableConcept | undefined): UnitRule | undefined {
  const codings = Array.isArray(code?.coding) ? code.coding : [];
  return m.components?.find((rule) =>
    rule.codes.some((c) => codings.some((coding) => coding?.system === c.system && coding.code === c.code))
  );
}
