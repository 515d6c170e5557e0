/**
 * Immunization history following (a simplified) US schedule: childhood series for minors, yearly
 * influenza, the 2021 COVID-19 primary series, Td/Tdap boosters, pneumococcal and zoster for
 * older adults. Dates always fall between birth and the reference date.
 */
import type { Immunization, Patient, Reference } from '@medplum/fhirtypes';
import { VACCINES, codeable, type Concept } from './codes';
import type { PatientProfile } from './patient';
import type { Rng } from './prng';
import { DAY_MS, YEAR_MS, formatDateTime, localTime, parseDate } from './time';

export interface ScheduledDose {
  readonly vaccine: Concept;
  readonly ms: number;
}

/** Childhood doses as (vaccine, age in days). */
const CHILDHOOD_SERIES: readonly (readonly [Concept, number])[] = [
  [VACCINES.hepB, 1],
  [VACCINES.dtap, 61],
  [VACCINES.ipv, 61],
  [VACCINES.dtap, 122],
  [VACCINES.ipv, 122],
  [VACCINES.dtap, 183],
  [VACCINES.mmr, 395],
  [VACCINES.varicella, 395],
  [VACCINES.dtap, 456],
  [VACCINES.mmr, 1_600],
  [VACCINES.varicella, 1_600],
];

function childhood(rng: Rng, profile: PatientProfile): ScheduledDose[] {
  const doses = CHILDHOOD_SERIES.map(([vaccine, days]) => ({
    vaccine,
    ms: profile.birthMs + (days + rng.int(0, 20)) * DAY_MS,
  }));
  if (rng.chance(0.6)) {
    const start = profile.birthMs + 11.5 * YEAR_MS;
    doses.push({ vaccine: VACCINES.meningococcal, ms: start }, { vaccine: VACCINES.hpv, ms: start });
    doses.push({ vaccine: VACCINES.hpv, ms: start + rng.int(180, 360) * DAY_MS });
  }
  return doses;
}

function influenza(rng: Rng, profile: PatientProfile, referenceMs: number): ScheduledDose[] {
  const year = new Date(referenceMs).getUTCFullYear();
  const take = profile.age >= 65 ? 0.75 : profile.age < 18 ? 0.55 : 0.45;
  const doses: ScheduledDose[] = [];
  for (let season = year - 9; season <= year; season++) {
    const ms = Date.UTC(season, 9, 1) + rng.int(-20, 50) * DAY_MS;
    // Influenza vaccine is licensed from 6 months of age.
    if (rng.chance(take) && ms > profile.birthMs + 183 * DAY_MS) {
      doses.push({ vaccine: VACCINES.influenza, ms });
    }
  }
  return doses;
}

function covid(rng: Rng, profile: PatientProfile): ScheduledDose[] {
  const ageIn2021 = (parseDate('2021-06-01') - profile.birthMs) / YEAR_MS;
  if (ageIn2021 < 12 || !rng.chance(0.7)) {
    return [];
  }
  const first = parseDate('2021-01-15') + rng.int(0, 150) * DAY_MS;
  const doses = [
    { vaccine: VACCINES.covid, ms: first },
    { vaccine: VACCINES.covid, ms: first + rng.int(21, 35) * DAY_MS },
  ];
  if (rng.chance(0.5)) {
    doses.push({ vaccine: VACCINES.covid, ms: parseDate('2022-09-15') + rng.int(0, 90) * DAY_MS });
  }
  return doses;
}

function adult(rng: Rng, profile: PatientProfile, referenceMs: number): ScheduledDose[] {
  const doses: ScheduledDose[] = [];
  if (profile.age >= 19 && rng.chance(0.7)) {
    const vaccine = rng.chance(0.5) ? VACCINES.tdap : VACCINES.td;
    doses.push({ vaccine, ms: referenceMs - rng.int(30, 3_600) * DAY_MS });
  }
  if (profile.age >= 66 && rng.chance(0.7)) {
    const at65 = profile.birthMs + 65 * YEAR_MS + rng.int(0, 300) * DAY_MS;
    doses.push({ vaccine: VACCINES.pcv13, ms: at65 });
    if (rng.chance(0.6)) {
      doses.push({ vaccine: VACCINES.ppsv23, ms: at65 + rng.int(365, 500) * DAY_MS });
    }
  }
  if (profile.age >= 51 && rng.chance(0.4)) {
    const eligible = Math.max(profile.birthMs + 50 * YEAR_MS, parseDate('2018-01-01'));
    const first = eligible + rng.int(0, 900) * DAY_MS;
    doses.push(
      { vaccine: VACCINES.zoster, ms: first },
      { vaccine: VACCINES.zoster, ms: first + rng.int(60, 180) * DAY_MS }
    );
  }
  return doses;
}

/** The patient's doses, oldest first, restricted to [birth, reference date). */
export function scheduleImmunizations(rng: Rng, profile: PatientProfile, referenceMs: number): ScheduledDose[] {
  const doses = [
    ...(profile.age < 18 ? childhood(rng, profile) : []),
    ...influenza(rng, profile, referenceMs),
    ...covid(rng, profile),
    ...adult(rng, profile, referenceMs),
  ];
  return doses
    .filter((dose) => dose.ms > profile.birthMs && dose.ms < referenceMs - DAY_MS)
    .sort((a, b) => a.ms - b.ms);
}

export function immunizationResource(
  rng: Rng,
  dose: ScheduledDose,
  patient: Reference<Patient>,
  utcOffset: number
): Immunization {
  const lot = `${String.fromCharCode(65 + rng.int(0, 25), 65 + rng.int(0, 25))}${rng.int(1000, 9999)}`;
  return {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: codeable(dose.vaccine),
    patient,
    occurrenceDateTime: formatDateTime(localTime(dose.ms, rng.int(32, 66) * 15, utcOffset), utcOffset),
    primarySource: true,
    lotNumber: lot,
  };
}
