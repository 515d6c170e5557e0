/**
 * The fixed provider directory shared by every generated patient: 5 organisations and 20
 * practitioners, identified by (check-digit-valid) NPIs. Bundles create them with conditional
 * creates on the NPI, so loading any number of bundles leaves exactly one copy of each.
 */
import type { Organization, Practitioner } from '@medplum/fhirtypes';
import { SYSTEM, type Concept } from './codes';

export type OrganizationKind = 'clinic' | 'hospital' | 'urgentCare';

export interface OrganizationDefinition {
  readonly name: string;
  readonly kind: OrganizationKind;
  readonly npi: string;
  readonly line: string;
  readonly city: string;
  readonly state: string;
  readonly postalCode: string;
  readonly phone: string;
}

export type Specialty = 'family' | 'internal' | 'endocrinology' | 'cardiology' | 'pulmonology' | 'emergency';

export interface PractitionerDefinition {
  readonly given: readonly string[];
  readonly family: string;
  readonly gender: 'male' | 'female';
  readonly npi: string;
  readonly specialty: Specialty;
  readonly organization: OrganizationDefinition;
}

/** NUCC provider taxonomy codes for each specialty. */
const TAXONOMY: Readonly<Record<Specialty, Concept>> = {
  family: { system: SYSTEM.nucc, code: '207Q00000X', display: 'Family Medicine Physician' },
  internal: { system: SYSTEM.nucc, code: '207R00000X', display: 'Internal Medicine Physician' },
  endocrinology: { system: SYSTEM.nucc, code: '207RE0101X', display: 'Endocrinology, Diabetes & Metabolism Physician' },
  cardiology: { system: SYSTEM.nucc, code: '207RC0000X', display: 'Cardiovascular Disease Physician' },
  pulmonology: { system: SYSTEM.nucc, code: '207RP1001X', display: 'Pulmonary Disease Physician' },
  emergency: { system: SYSTEM.nucc, code: '207P00000X', display: 'Emergency Medicine Physician' },
};

/**
 * NPI check digit: Luhn over the 9-digit base prefixed with the card-issuer code 80840, as the
 * CMS NPI standard specifies. Valid check digits let tests and validators treat them as real NPIs.
 */
export function npiCheckDigit(base: string): string {
  const digits = `80840${base}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits.charAt(digits.length - 1 - i));
    const value = i % 2 === 0 ? digit * 2 : digit;
    sum += value > 9 ? value - 9 : value;
  }
  return String((10 - (sum % 10)) % 10);
}

function npi(base: number): string {
  const text = String(base);
  return text + npiCheckDigit(text);
}

const org = (
  index: number,
  name: string,
  kind: OrganizationKind,
  [line, city, state, postalCode]: [string, string, string, string]
): OrganizationDefinition => ({
  name,
  kind,
  npi: npi(194_210_370 + index * 1_117),
  line,
  city,
  state,
  postalCode,
  phone: `555-010-${String(1000 + index * 111).padStart(4, '0')}`,
});

export const ORGANIZATIONS: readonly OrganizationDefinition[] = [
  org(0, 'Hale Community Health Center', 'clinic', ['100 Harborview Ave', 'Boston', 'MA', '02110']),
  org(1, 'Riverside Family Medicine', 'clinic', ['2200 Riverside Dr', 'Austin', 'TX', '78741']),
  org(2, 'Northgate Clínica de Salud', 'clinic', ['845 Avenida del Sol', 'Phoenix', 'AZ', '85004']),
  org(3, "St. Brigid's Medical Center", 'hospital', ['1 Medical Center Plaza', 'Chicago', 'IL', '60611']),
  org(4, 'Lakeshore Urgent Care', 'urgentCare', ['77 Lake Shore Dr', 'Seattle', 'WA', '98101']),
];

function organizationAt(index: number): OrganizationDefinition {
  const found = ORGANIZATIONS[index];
  if (!found) {
    throw new RangeError(`No organization ${index}`);
  }
  return found;
}

const practitioner = (
  index: number,
  [given, family, gender]: [string, string, 'male' | 'female'],
  specialty: Specialty,
  organization: number
): PractitionerDefinition => ({
  given: given.split(' '),
  family,
  gender,
  npi: npi(163_045_120 + index * 2_311),
  specialty,
  organization: organizationAt(organization),
});

export const PRACTITIONERS: readonly PractitionerDefinition[] = [
  practitioner(0, ['Margaret Anne', 'Holloway', 'female'], 'family', 0),
  practitioner(1, ['Samuel', 'Okonkwo', 'male'], 'internal', 0),
  practitioner(2, ['Hélène', 'Marchand', 'female'], 'family', 0),
  practitioner(3, ['David', 'Rosenberg', 'male'], 'internal', 0),
  practitioner(4, ['Carmen', 'Villaseñor', 'female'], 'family', 1),
  practitioner(5, ['Thomas', 'Whitfield', 'male'], 'family', 1),
  practitioner(6, ['Anjali', 'Raghunathan', 'female'], 'internal', 1),
  practitioner(7, ['Luis Miguel', 'Ortega', 'male'], 'family', 2),
  practitioner(8, ['Grace', 'Begay', 'female'], 'family', 2),
  practitioner(9, ['Kenji', 'Watanabe', 'male'], 'internal', 2),
  practitioner(10, ['Fiona', "O'Sullivan", 'female'], 'endocrinology', 3),
  practitioner(11, ['Marcus', 'Lindqvist', 'male'], 'endocrinology', 3),
  practitioner(12, ['Ruth', 'Adeyemi', 'female'], 'cardiology', 3),
  practitioner(13, ['Stefan', 'Kowalczyk', 'male'], 'cardiology', 3),
  practitioner(14, ['Naomi', 'Feldman', 'female'], 'pulmonology', 3),
  practitioner(15, ['Jamal', 'Carter', 'male'], 'emergency', 3),
  practitioner(16, ['Eun-ji', 'Park', 'female'], 'emergency', 3),
  practitioner(17, ['Patrick', 'Nolan', 'male'], 'emergency', 3),
  practitioner(18, ['Zoë', 'Brennan', 'female'], 'family', 4),
  practitioner(19, ['Tomás', 'Aguilar', 'male'], 'family', 4),
];

/** The `ifNoneExist` query that makes creating a directory entry idempotent. */
export function npiQuery(definition: { readonly npi: string }): string {
  return `identifier=${SYSTEM.npi}|${definition.npi}`;
}

export function organizationResource(definition: OrganizationDefinition): Organization {
  return {
    resourceType: 'Organization',
    identifier: [{ system: SYSTEM.npi, value: definition.npi }],
    active: true,
    type: [{ coding: [{ system: SYSTEM.organizationType, code: 'prov', display: 'Healthcare Provider' }] }],
    name: definition.name,
    telecom: [{ system: 'phone', value: definition.phone, use: 'work' }],
    address: [
      {
        use: 'work',
        line: [definition.line],
        city: definition.city,
        state: definition.state,
        postalCode: definition.postalCode,
        country: 'US',
      },
    ],
  };
}

export function practitionerResource(definition: PractitionerDefinition): Practitioner {
  const taxonomy = TAXONOMY[definition.specialty];
  return {
    resourceType: 'Practitioner',
    identifier: [{ system: SYSTEM.npi, value: definition.npi }],
    active: true,
    name: [
      { use: 'official', family: definition.family, given: [...definition.given], prefix: ['Dr.'], suffix: ['MD'] },
    ],
    telecom: [{ system: 'phone', value: definition.organization.phone, use: 'work' }],
    gender: definition.gender,
    qualification: [{ code: { coding: [{ ...taxonomy }], text: taxonomy.display } }],
  };
}

export function practitionersAt(organization: OrganizationDefinition, specialty?: Specialty): PractitionerDefinition[] {
  return PRACTITIONERS.filter(
    (p) => p.organization === organization && (specialty === undefined || p.specialty === specialty)
  );
}

export function practitionersWith(specialty: Specialty): PractitionerDefinition[] {
  return PRACTITIONERS.filter((p) => p.specialty === specialty);
}
