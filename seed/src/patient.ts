/**
 * Demographics: who the patient is (name, sex, age, address, primary-care home) and the Patient
 * resource. Everything is drawn from the patient's own PRNG stream, so patient i is identical
 * whether it is generated alone or as part of a larger run.
 */
import type { ContactPoint, Identifier, Organization, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import { SYSTEM } from './codes';
import {
  CITIES,
  FAMILY_NAMES,
  FEMALE_GIVEN_NAMES,
  MALE_GIVEN_NAMES,
  STREET_NAMES,
  asciiFold,
  type City,
} from './names';
import type { Rng } from './prng';
import { ORGANIZATIONS, practitionersAt, type OrganizationDefinition, type PractitionerDefinition } from './providers';
import { DAY_MS, ageInYears, formatDate } from './time';

export interface PatientProfile {
  readonly mrn: string;
  /** Physiological sex, which drives reference ranges and growth curves. */
  readonly sex: 'male' | 'female';
  readonly gender: 'male' | 'female' | 'other';
  readonly birthMs: number;
  /** Age in whole years at the reference date. */
  readonly age: number;
  readonly given: readonly string[];
  readonly family: string;
  readonly city: City;
  readonly clinic: OrganizationDefinition;
  readonly pcp: PractitionerDefinition;
}

/** Age bands (years, inclusive) and their share of the generated population. */
const AGE_BANDS: readonly (readonly [readonly [number, number], number])[] = [
  [[2, 17], 12],
  [[18, 34], 25],
  [[35, 49], 22],
  [[50, 64], 23],
  [[65, 79], 14],
  [[80, 90], 4],
];

/**
 * The MRN is a pure function of (seed, index), not a PRNG draw, so it is unique by construction
 * and a test can compute it to look the patient up.
 */
export function mrnOf(seed: number, patientIndex: number): string {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${seed}`);
  }
  if (!Number.isSafeInteger(patientIndex) || patientIndex < 0) {
    throw new RangeError(`patientIndex must be a non-negative integer, got ${patientIndex}`);
  }
  const seedPart = seed < 0 ? `N${-seed}` : String(seed);
  return `S${seedPart}-${String(patientIndex).padStart(7, '0')}`;
}

/** An SSN in the never-issued 9xx area; the serial is a bijection of the index, so it is unique per seed. */
function syntheticSsn(rng: Rng, patientIndex: number): string {
  const serial = String((patientIndex * 7_919 + 104_729) % 1_000_000).padStart(6, '0');
  return `9${rng.int(0, 9)}${rng.int(0, 9)}-${serial.slice(0, 2)}-${serial.slice(2)}`;
}

/** Clinics in the time zone closest to the patient's city: the directory has no clinic in most states. */
function nearestClinics(city: City): OrganizationDefinition[] {
  const offsetOf = (clinic: OrganizationDefinition) => CITIES.find((c) => c.name === clinic.city)?.utcOffset ?? 0;
  const clinics = ORGANIZATIONS.filter((o) => o.kind === 'clinic');
  const distance = (clinic: OrganizationDefinition) => Math.abs(offsetOf(clinic) - city.utcOffset);
  const best = Math.min(...clinics.map(distance));
  return clinics.filter((clinic) => distance(clinic) === best);
}

export function createProfile(rng: Rng, mrn: string, referenceMs: number): PatientProfile {
  const sex = rng.chance(0.5) ? 'male' : 'female';
  const gender = rng.chance(0.01) ? 'other' : sex;
  const [minAge, maxAge] = rng.weighted(AGE_BANDS);
  const birthMs = referenceMs - rng.int(minAge, maxAge) * 365.25 * DAY_MS - rng.int(1, 364) * DAY_MS;
  const names = sex === 'male' ? MALE_GIVEN_NAMES : FEMALE_GIVEN_NAMES;
  const age = ageInYears(birthMs, referenceMs);
  const given = rng.chance(age >= 18 ? 0.4 : 0.25) ? rng.sample(names, 2) : [rng.pick(names)];
  const city = rng.pick(CITIES);
  const clinic = rng.pick(nearestClinics(city));
  return {
    mrn,
    sex,
    gender,
    birthMs: Math.floor(birthMs / DAY_MS) * DAY_MS,
    age,
    given,
    family: rng.pick(FAMILY_NAMES),
    city,
    clinic,
    pcp: rng.pick(practitionersAt(clinic).filter((p) => p.specialty === 'family' || p.specialty === 'internal')),
  };
}

function phoneNumber(rng: Rng): string {
  return `555-${rng.int(200, 999)}-${String(rng.int(0, 9999)).padStart(4, '0')}`;
}

function telecom(rng: Rng, profile: PatientProfile): ContactPoint[] {
  const points: ContactPoint[] = [{ system: 'phone', value: phoneNumber(rng), use: 'mobile', rank: 1 }];
  if (rng.chance(0.4)) {
    points.push({ system: 'phone', value: phoneNumber(rng), use: 'home', rank: 2 });
  }
  if (profile.age >= 14 && rng.chance(0.8)) {
    const first = asciiFold(profile.given[0] ?? 'patient');
    const local = `${first}.${asciiFold(profile.family)}${rng.int(1, 999)}`;
    points.push({ system: 'email', value: `${local}@example.com`, use: 'home' });
  }
  return points;
}

function identifiers(rng: Rng, profile: PatientProfile, patientIndex: number): Identifier[] {
  const list: Identifier[] = [
    {
      use: 'usual',
      type: { coding: [{ system: SYSTEM.identifierType, code: 'MR', display: 'Medical record number' }] },
      system: SYSTEM.mrn,
      value: profile.mrn,
    },
  ];
  if (rng.chance(0.6)) {
    list.push({
      use: 'secondary',
      type: { coding: [{ system: SYSTEM.identifierType, code: 'SS', display: 'Social Security number' }] },
      system: SYSTEM.ssn,
      value: syntheticSsn(rng, patientIndex),
    });
  }
  return list;
}

const LANGUAGES: readonly (readonly [{ readonly code: string; readonly display: string }, number])[] = [
  [{ code: 'en-US', display: 'English (United States)' }, 82],
  [{ code: 'es', display: 'Spanish' }, 10],
  [{ code: 'vi', display: 'Vietnamese' }, 2],
  [{ code: 'zh', display: 'Chinese' }, 2],
  [{ code: 'fr', display: 'French' }, 2],
  [{ code: 'de', display: 'German' }, 2],
];

function maritalStatus(rng: Rng, age: number): Pick<Patient, 'maritalStatus'> {
  if (age < 18) {
    return {};
  }
  const status = rng.weighted([
    [['M', 'Married'], 50],
    [['S', 'Never Married'], age < 30 ? 60 : 25],
    [['D', 'Divorced'], 10],
    [['W', 'Widowed'], age > 65 ? 20 : 1],
  ] as const);
  return {
    maritalStatus: { coding: [{ system: SYSTEM.maritalStatus, code: status[0], display: status[1] }], text: status[1] },
  };
}

export function patientResource(
  rng: Rng,
  profile: PatientProfile,
  patientIndex: number,
  refs: { pcp: Reference<Practitioner>; clinic: Reference<Organization> }
): Patient {
  const lines = [`${rng.int(1, 9999)} ${rng.pick(STREET_NAMES)}`];
  if (rng.chance(0.2)) {
    lines.push(`Apt ${rng.int(1, 40)}${rng.pick(['A', 'B', 'C', 'D'])}`);
  }
  const language = rng.weighted(LANGUAGES);
  return {
    resourceType: 'Patient',
    identifier: identifiers(rng, profile, patientIndex),
    active: true,
    name: [{ use: 'official', family: profile.family, given: [...profile.given] }],
    telecom: telecom(rng, profile),
    gender: profile.gender,
    birthDate: formatDate(profile.birthMs),
    address: [
      {
        use: 'home',
        type: 'physical',
        line: lines,
        city: profile.city.name,
        state: profile.city.state,
        postalCode: `${profile.city.zipPrefix}${String(rng.int(1, 99)).padStart(2, '0')}`,
        country: 'US',
      },
    ],
    ...maritalStatus(rng, profile.age),
    communication: [
      { language: { coding: [{ system: SYSTEM.bcp47, ...language }], text: language.display }, preferred: true },
    ],
    generalPractitioner: [refs.pcp],
    managingOrganization: refs.clinic,
  };
}
