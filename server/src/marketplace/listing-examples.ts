import type { Extension, HealthcareService, Location, Money, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { BCP47, LISTING_EXTENSIONS, NUCC_TAXONOMY, SNOMED } from './vocabulary';

/** Test support: conformant marketplace listings and ways to break each, naming the element the 400 names. */

export interface ListingRefs {
  practitionerId: string;
  organizationId: string;
  locationId: string;
}

export const FAMILY_MEDICINE = { system: NUCC_TAXONOMY, code: '207Q00000X', display: 'Family Medicine' };
export const DERMATOLOGY = { system: SNOMED, code: '394582007', display: 'Dermatology' };

export const flag = (url: string, value: boolean): Extension => ({ url, valueBoolean: value });
export const fee = (value: number, currency: Money['currency'] = 'EUR'): Extension => ({
  url: LISTING_EXTENSIONS.fee,
  valueMoney: { value, currency },
});
export const language = (code: string): Extension => ({
  url: LISTING_EXTENSIONS.language,
  valueCodeableConcept: { coding: [{ system: BCP47, code }] },
});

export function locationAt(name: string, latitude: number, longitude: number): Location {
  return {
    resourceType: 'Location',
    status: 'active',
    name,
    address: { line: ['1 Main Street'], city: name, country: 'NZ' },
    position: { latitude, longitude },
  };
}

export function providerListing(refs: ListingRefs, extra: Partial<PractitionerRole> = {}): PractitionerRole {
  return {
    resourceType: 'PractitionerRole',
    active: true,
    practitioner: { reference: `Practitioner/${refs.practitionerId}` },
    organization: { reference: `Organization/${refs.organizationId}` },
    specialty: [{ coding: [FAMILY_MEDICINE] }],
    location: [{ reference: `Location/${refs.locationId}` }],
    extension: [
      flag(LISTING_EXTENSIONS.acceptingNewPatients, true),
      flag(LISTING_EXTENSIONS.telehealth, true),
      fee(80),
      language('en'),
      language('mi'),
    ],
    ...extra,
  };
}

export function serviceListing(refs: ListingRefs, extra: Partial<HealthcareService> = {}): HealthcareService {
  return {
    resourceType: 'HealthcareService',
    active: true,
    name: 'Skin clinic',
    providedBy: { reference: `Organization/${refs.organizationId}` },
    specialty: [{ coding: [DERMATOLOGY] }],
    location: [{ reference: `Location/${refs.locationId}` }],
    communication: [{ coding: [{ system: BCP47, code: 'es' }] }],
    extension: [flag(LISTING_EXTENSIONS.acceptingNewPatients, false), fee(120)],
    ...extra,
  };
}

export interface ListingBreak {
  what: string;
  change: (r: Resource) => Resource;
  elements: string[];
}

const without =
  <T extends Resource>(key: keyof T) =>
  (r: Resource): Resource => {
    const copy = { ...(r as T) };
    delete copy[key];
    return copy;
  };
const withFields =
  (fields: Record<string, unknown>) =>
  (r: Resource): Resource => ({ ...r, ...fields });
const withExtensions =
  (extension: Extension[]) =>
  (r: Resource): Resource =>
    ({ ...r, extension }) as Resource;

export const LISTING_BREAKS: Record<'provider' | 'service' | 'location', ListingBreak[]> = {
  provider: [
    { what: 'no specialty', change: without<PractitionerRole>('specialty'), elements: ['PractitionerRole.specialty'] },
    {
      what: 'a specialty in neither NUCC nor SNOMED CT',
      change: withFields({ specialty: [{ coding: [{ system: 'http://example.org/specialty', code: 'gp' }] }] }),
      elements: ['PractitionerRole.specialty[0]'],
    },
    {
      what: 'no practitioner',
      change: without<PractitionerRole>('practitioner'),
      elements: ['PractitionerRole.practitioner'],
    },
    {
      what: 'two telehealth flags',
      change: withExtensions([flag(LISTING_EXTENSIONS.telehealth, true), flag(LISTING_EXTENSIONS.telehealth, false)]),
      elements: ['PractitionerRole'],
    },
    {
      what: 'a language without a BCP-47 coding',
      change: withExtensions([{ url: LISTING_EXTENSIONS.language, valueCodeableConcept: { text: 'Spanish' } }]),
      elements: ['PractitionerRole'],
    },
    {
      what: 'a fee that is not Money',
      change: withExtensions([{ url: LISTING_EXTENSIONS.fee, valueString: '80 EUR' }]),
      elements: ['PractitionerRole'],
    },
  ],
  service: [
    { what: 'no name', change: without<HealthcareService>('name'), elements: ['HealthcareService.name'] },
    {
      what: 'no organization',
      change: without<HealthcareService>('providedBy'),
      elements: ['HealthcareService.providedBy'],
    },
    {
      what: 'a language that is not BCP-47',
      change: withFields({ communication: [{ text: 'Spanish' }] }),
      elements: ['HealthcareService.communication[0]'],
    },
  ],
  location: [
    { what: 'no position', change: without<Location>('position'), elements: ['Location.position'] },
    {
      what: 'a latitude past the pole',
      change: withFields({ position: { latitude: 91, longitude: 10 } }),
      elements: ['Location.position'],
    },
    { what: 'no address', change: without<Location>('address'), elements: ['Location.address'] },
  ],
};
