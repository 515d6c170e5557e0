/**
 * The bots phase's workload: fresh patients, and vital-sign Observations of theirs, dated over the
 * last two and a half days so that every rule's window (3 to 30 days, ending at the reading) holds
 * them. Six codes in turn, one sixth each: blood pressure, weight and resting heart rate (read by the
 * default clinical rules), heart rate, body temperature and respiratory rate (read by none).
 */
import type { Bundle, BundleEntry, Observation, Patient } from '@medplum/fhirtypes';
import { random } from './stats';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const BENCH_SYSTEM = 'https://hale.health/fhir/sid/bench-bots-patient';
const SPREAD_MS = 60 * 60 * 60 * 1000; // 2.5 days

export const HEART_RATE = `${LOINC}|8867-4`;
/** Heart rate and body temperature: 2 of the 6 codes, the no-op bot's Subscription in the ingest-overhead runs. */
export const ONE_THIRD_CRITERIA = `Observation?code=${HEART_RATE},${LOINC}|8310-5`;

interface Vital {
  readonly code: string;
  readonly display: string;
  readonly unit: string;
  /** A reading around the patient's own baseline. */
  value(base: number, next: () => number): number;
}

const around =
  (spread: number, decimals = 0) =>
  (base: number, next: () => number): number =>
    Number((base + (next() - 0.5) * 2 * spread).toFixed(decimals));

const VITALS: readonly Vital[] = [
  { code: '85354-9', display: 'Blood pressure panel with all children optional', unit: 'mm[Hg]', value: around(18) },
  { code: '29463-7', display: 'Body weight', unit: 'kg', value: around(1.5, 1) },
  { code: '40443-4', display: 'Heart rate --resting', unit: '/min', value: around(8) },
  { code: '8867-4', display: 'Heart rate', unit: '/min', value: around(12) },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', value: around(0.5, 1) },
  { code: '9279-1', display: 'Respiratory rate', unit: '/min', value: around(3) },
];

/** A transaction that creates `count` Patients (identifier `<run>-<i>`). */
export function patientsBundle(run: string, count: number): Bundle {
  return transaction(
    Array.from({ length: count }, (_, i): Patient => ({
      resourceType: 'Patient',
      identifier: [{ system: BENCH_SYSTEM, value: `${run}-${i}` }],
      name: [{ family: `Botbench${run}`, given: [`P${i}`] }],
      gender: i % 2 === 0 ? 'female' : 'male',
      birthDate: `${1940 + (i % 60)}-0${1 + (i % 9)}-1${i % 10}`,
    })),
    'Patient'
  );
}

function transaction(resources: readonly (Observation | Patient)[], type: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource): BundleEntry => ({ resource, request: { method: 'POST', url: type } })),
  };
}

export function vitalSign(code: string, patientId: string, effective: Date, value: number): Observation {
  const vital = VITALS.find((v) => v.code === code);
  if (!vital) {
    throw new Error(`no vital sign with code ${code}`);
  }
  const base: Observation = {
    resourceType: 'Observation',
    status: 'final',
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'vital-signs',
            display: 'Vital Signs',
          },
        ],
      },
    ],
    code: { coding: [{ system: LOINC, code: vital.code, display: vital.display }], text: vital.display },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: effective.toISOString(),
  };
  if (vital.code !== '85354-9') {
    return { ...base, valueQuantity: { value, unit: vital.unit, system: UCUM, code: vital.unit } };
  }
  const mmHg = (v: number) => ({ value: v, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' });
  return {
    ...base,
    component: [
      {
        code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] },
        valueQuantity: mmHg(value),
      },
      {
        code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] },
        valueQuantity: mmHg(Math.round(value * 0.62)),
      },
    ],
  };
}

/** Each patient's baseline per code: where their readings sit (some patients' blood pressure runs high). */
const BASELINES = [128, 78, 64, 76, 36.9, 15];

/**
 * `total` Observations for the patients, round robin (so one bundle holds readings of many
 * patients), in transaction bundles of `perBundle`, serialised. Readings run from 2.5 days before
 * `now` to just before it, each patient's in time order.
 */
export function observationBundles(
  patientIds: readonly string[],
  total: number,
  perBundle: number,
  o: { seed: number; now: number }
): string[] {
  const next = random(o.seed);
  const bundles: string[] = [];
  let batch: Observation[] = [];
  for (let i = 0; i < total; i++) {
    const patient = patientIds[i % patientIds.length] as string;
    const round = Math.floor(i / patientIds.length);
    const rounds = Math.ceil(total / patientIds.length);
    const vital = VITALS[round % VITALS.length] as Vital;
    const base = (BASELINES[round % VITALS.length] as number) * (0.95 + ((i % patientIds.length) % 7) * 0.02);
    const effective = new Date(o.now - SPREAD_MS + ((round + 0.5) / rounds) * (SPREAD_MS - 60_000));
    batch.push(vitalSign(vital.code, patient, effective, vital.value(base, next)));
    if (batch.length === perBundle || i === total - 1) {
      bundles.push(JSON.stringify(transaction(batch, 'Observation')));
      batch = [];
    }
  }
  return bundles;
}
