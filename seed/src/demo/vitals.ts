import type { Observation } from '@medplum/fhirtypes';
import { component, ucum, validReading } from '../../../server/src/wellness/examples';
import {
  GLUCOSE_MEAL_CONTEXT_EXTENSION,
  GLUCOSE_MEAL_CONTEXT_SYSTEM,
  HALE_OBSERVATION_CODE,
} from '../../../server/src/wellness/measurements';
import { Rng } from '../prng';
import { DAY_MS, MINUTE_MS, formatDate, formatDateTime } from '../time';

/**
 * A year of one person's measurements, a few a day: what a phone, a watch, a scale and a glucose meter would
 * send. Each reading starts from the server's own conformant example of its profile (wellness/examples.ts), so
 * the demo follows the profiles as they change; only values and times are the demo's.
 */

export interface DemoDay {
  /** UTC midnight of the day. */
  dayMs: number;
  /** 0 for the first day of the year, 364 (or 365) for the reference date. */
  index: number;
}

/** A slow trend over the year (the care plan works): 0 at the start, 1 at the end. */
const progress = (day: DemoDay, days: number): number => day.index / Math.max(1, days - 1);
const round = (value: number, digits = 0): number => Number(value.toFixed(digits));
const at = (day: DemoDay, minutes: number): string => formatDateTime(day.dayMs + minutes * MINUTE_MS, 0);

function reading(key: string, patientId: string, effective: string, extra: Partial<Observation>): Observation {
  return { ...validReading(key, patientId, effective), ...extra };
}

/** The readings of one day (deterministic from the day and the seed). */
export function vitalsOf(patientId: string, day: DemoDay, days: number, seed: number): Observation[] {
  const rng = new Rng(seed, 101, day.index);
  const p = progress(day, days);
  const morning = rng.int(6 * 60 + 30, 7 * 60 + 30);
  const out: Observation[] = [];
  const systolic = round(rng.normal(138 - 12 * p, 5));
  const diastolic = round(rng.normal(88 - 8 * p, 3));
  out.push(
    reading('blood-pressure', patientId, at(day, morning + 5), {
      component: [
        component('http://loinc.org', '8480-6', ucum(systolic, 'mm[Hg]', 'mmHg')),
        component('http://loinc.org', '8462-4', ucum(diastolic, 'mm[Hg]', 'mmHg')),
      ],
    }),
    reading('heart-rate', patientId, at(day, morning + 5), {
      valueQuantity: ucum(round(rng.normal(74 - 6 * p, 4)), '/min'),
    }),
    reading('resting-heart-rate', patientId, at(day, 4 * 60), {
      valueQuantity: ucum(round(rng.normal(66 - 6 * p, 2)), '/min'),
    }),
    reading('body-weight', patientId, at(day, morning), {
      valueQuantity: ucum(round(rng.normal(86 - 6 * p, 0.4), 1), 'kg'),
    }),
    reading('blood-glucose', patientId, at(day, morning + 15), {
      valueQuantity: ucum(round(rng.normal(112 - 14 * p, 6)), 'mg/dL'),
      extension: [glucoseContext('fasting')],
    }),
    reading('hrv-rmssd', patientId, at(day, 4 * 60), {
      valueQuantity: ucum(round(rng.normal(32 + 10 * p, 4)), 'ms'),
    }),
    reading('mood', patientId, at(day, 21 * 60), {
      valueInteger: rng.weighted([
        [2, 1],
        [3, 3],
        [4, 4],
        [5, 2],
      ]),
    }),
    sleepOf(patientId, day, rng),
    reading('steps', patientId, at(day, 23 * 60 + 59), {
      effectivePeriod: { start: formatDate(day.dayMs), end: formatDate(day.dayMs) },
      valueQuantity: ucum(round(rng.normal(6500 + 3500 * p, 1800)), '{steps}', 'steps'),
    }),
    reading('active-energy', patientId, at(day, 23 * 60 + 59), {
      valueQuantity: ucum(round(rng.normal(380 + 160 * p, 70)), 'kcal'),
    })
  );
  if (rng.chance(0.5)) {
    out.push(
      reading('blood-glucose', patientId, at(day, 13 * 60 + rng.int(30, 90)), {
        valueQuantity: ucum(round(rng.normal(148 - 16 * p, 12)), 'mg/dL'),
        extension: [glucoseContext('postprandial')],
      })
    );
  }
  if (day.index % 7 === 0) {
    out.push(...weeklyOf(patientId, day, rng, p));
  }
  return out;
}

function glucoseContext(code: 'fasting' | 'postprandial'): NonNullable<Observation['extension']>[number] {
  return { url: GLUCOSE_MEAL_CONTEXT_EXTENSION, valueCoding: { system: GLUCOSE_MEAL_CONTEXT_SYSTEM, code } };
}

/** The night that ended this morning, with its stages. */
function sleepOf(patientId: string, day: DemoDay, rng: Rng): Observation {
  const deep = round(rng.normal(80, 12));
  const rem = round(rng.normal(95, 15));
  const light = round(rng.normal(235, 30));
  const awake = round(Math.max(5, rng.normal(22, 8)));
  const end = day.dayMs + rng.int(6 * 60 + 15, 7 * 60 + 15) * MINUTE_MS;
  const start = end - (deep + rem + light + awake) * MINUTE_MS;
  return reading('sleep-duration', patientId, at(day, 0), {
    effectivePeriod: { start: formatDateTime(start, 0), end: formatDateTime(end, 0) },
    valueQuantity: ucum(deep + rem + light, 'min'),
    component: [
      component(HALE_OBSERVATION_CODE, 'sleep-deep', ucum(deep, 'min')),
      component(HALE_OBSERVATION_CODE, 'sleep-rem', ucum(rem, 'min')),
      component(HALE_OBSERVATION_CODE, 'sleep-light', ucum(light, 'min')),
      component(HALE_OBSERVATION_CODE, 'sleep-awake', ucum(awake, 'min')),
    ],
  });
}

const HEIGHT_CM = 176;

/** Once a week: what a person measures less often. */
function weeklyOf(patientId: string, day: DemoDay, rng: Rng, p: number): Observation[] {
  const weight = 86 - 6 * p;
  const time = at(day, 9 * 60);
  return [
    reading('bmi', patientId, time, { valueQuantity: ucum(round(weight / (HEIGHT_CM / 100) ** 2, 1), 'kg/m2') }),
    reading('waist-circumference', patientId, time, { valueQuantity: ucum(round(rng.normal(98 - 5 * p, 0.8)), 'cm') }),
    reading('oxygen-saturation', patientId, time, { valueQuantity: ucum(round(rng.normal(97, 0.8)), '%') }),
    reading('respiratory-rate', patientId, time, { valueQuantity: ucum(round(rng.normal(15, 1)), '/min') }),
    reading('body-temperature', patientId, time, { valueQuantity: ucum(round(rng.normal(36.7, 0.2), 1), 'Cel', '°C') }),
    reading('hrv-sdnn', patientId, time, { valueQuantity: ucum(round(rng.normal(42 + 8 * p, 5)), 'ms') }),
  ];
}

/** Measured once, at the start of the year. */
export function heightOf(patientId: string, first: DemoDay): Observation {
  return reading('body-height', patientId, at(first, 9 * 60), { valueQuantity: ucum(HEIGHT_CM, 'cm') });
}

/** The days of the year ending on the reference date (UTC midnights), oldest first. */
export function yearOfDays(referenceDayMs: number, days = 365): DemoDay[] {
  return Array.from({ length: days }, (_, index) => ({ dayMs: referenceDayMs - (days - 1 - index) * DAY_MS, index }));
}
