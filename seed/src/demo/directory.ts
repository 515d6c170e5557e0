import type {
  Coding,
  HealthcareService,
  Location,
  Organization,
  Practitioner,
  PractitionerRole,
} from '@medplum/fhirtypes';
import { fee, flag, language, locationAt } from '../../../server/src/marketplace/listing-examples';
import { BCP47, LISTING_EXTENSIONS, LISTING_PROFILES, NUCC_TAXONOMY } from '../../../server/src/marketplace/vocabulary';
import { FAMILY_NAMES, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES } from '../names';
import { Rng } from '../prng';
import type { DemoEntry } from './records';

/**
 * The marketplace's directory for the demo: clinics (Organization + Location) in six New Zealand cities and
 * the practitioners listed at them (Practitioner + PractitionerRole in Hale's listing profile), with the listing
 * extensions the marketplace's search parameters read — specialty, languages, fee, telehealth, accepting new
 * patients — and a few HealthcareServices. Every listing claims its profile, so the server validates it.
 */

export const DEMO_CITIES = [
  { name: 'Wellington', latitude: -41.2866, longitude: 174.7756 },
  { name: 'Auckland', latitude: -36.8485, longitude: 174.7633 },
  { name: 'Christchurch', latitude: -43.5321, longitude: 172.6362 },
  { name: 'Hamilton', latitude: -37.787, longitude: 175.2793 },
  { name: 'Dunedin', latitude: -45.8788, longitude: 170.5028 },
  { name: 'Tauranga', latitude: -37.6878, longitude: 176.1651 },
] as const;

const nucc = (code: string, display: string): Coding => ({ system: NUCC_TAXONOMY, code, display });

export const DEMO_SPECIALTIES = {
  family: nucc('207Q00000X', 'Family Medicine'),
  internal: nucc('207R00000X', 'Internal Medicine'),
  cardiology: nucc('207RC0000X', 'Cardiovascular Disease'),
  endocrinology: nucc('207RE0101X', 'Endocrinology, Diabetes & Metabolism'),
  dietitian: nucc('133V00000X', 'Dietitian, Registered'),
  physio: nucc('225100000X', 'Physical Therapist'),
  psychology: nucc('103T00000X', 'Psychologist'),
  dermatology: nucc('207N00000X', 'Dermatology'),
} as const;

const SPECIALTY_ORDER = Object.values(DEMO_SPECIALTIES);
const LANGUAGES = ['mi', 'zh', 'hi', 'es', 'sm', 'to', 'ko', 'fr'] as const;

export interface DemoDirectory {
  entries: DemoEntry[];
  /** The clinic and place the demo provider's listing names. */
  demoClinic: { organization: DemoEntry; location: DemoEntry };
  providers: number;
}

/** A listing's searchable parts (the demo provider's is written from these too). */
export interface ListingTerms {
  specialty: Coding;
  languages: readonly string[];
  fee: number;
  telehealth: boolean;
  accepting: boolean;
}

export function listingExtensions(terms: ListingTerms): NonNullable<PractitionerRole['extension']> {
  return [
    flag(LISTING_EXTENSIONS.acceptingNewPatients, terms.accepting),
    flag(LISTING_EXTENSIONS.telehealth, terms.telehealth),
    fee(terms.fee, 'NZD'),
    ...terms.languages.map((code) => language(code)),
  ];
}

function clinicsOf(w: {
  entry(r: Organization | Location): DemoEntry;
}): { organization: DemoEntry; location: DemoEntry }[] {
  return DEMO_CITIES.map((city) => {
    const organization = w.entry({
      resourceType: 'Organization',
      active: true,
      name: `${city.name} Health Collective`,
      address: [{ city: city.name, country: 'NZ' }],
    } satisfies Organization);
    const location = w.entry({
      ...locationAt(`${city.name} Health Collective`, city.latitude, city.longitude),
      meta: { profile: [LISTING_PROFILES.location] },
      address: { line: [`${10 + city.name.length} Victoria Street`], city: city.name, country: 'NZ' },
      managingOrganization: { reference: organization.fullUrl },
    } satisfies Location);
    return { organization, location };
  });
}

/** The 19 listed practitioners besides the demo provider (who joins as the 20th through the application path). */
export function directoryOf(
  w: { entry(r: DemoEntry['resource']): DemoEntry },
  seed: number,
  providers = 19
): DemoDirectory {
  const rng = new Rng(seed, 606);
  const clinics = clinicsOf(w);
  const entries: DemoEntry[] = clinics.flatMap((c) => [c.organization, c.location]);
  for (let i = 0; i < providers; i++) {
    const clinic = clinics[i % clinics.length] as (typeof clinics)[number];
    const female = rng.chance(0.55);
    const given = rng.pick(female ? FEMALE_GIVEN_NAMES : MALE_GIVEN_NAMES);
    const family = rng.pick(FAMILY_NAMES);
    const practitioner = w.entry({
      resourceType: 'Practitioner',
      active: true,
      name: [{ use: 'official', given: [given], family, prefix: ['Dr'] }],
      gender: female ? 'female' : 'male',
      qualification: [{ code: { text: 'MBChB' } }],
      communication: [{ coding: [{ system: BCP47, code: 'en' }] }],
    } satisfies Practitioner);
    const terms: ListingTerms = {
      specialty: SPECIALTY_ORDER[i % SPECIALTY_ORDER.length] as Coding,
      languages: ['en', ...rng.sample(LANGUAGES, rng.int(0, 2))],
      fee: 40 + 10 * rng.int(0, 10),
      telehealth: rng.chance(0.6),
      // Every fourth is full, so the "accepting new patients" filter has something to leave out.
      accepting: i % 4 !== 3,
    };
    entries.push(
      practitioner,
      w.entry({
        resourceType: 'PractitionerRole',
        meta: { profile: [LISTING_PROFILES.provider] },
        active: true,
        practitioner: { reference: practitioner.fullUrl },
        organization: { reference: clinic.organization.fullUrl },
        specialty: [{ coding: [terms.specialty] }],
        location: [{ reference: clinic.location.fullUrl }],
        extension: listingExtensions(terms),
      } satisfies PractitionerRole)
    );
  }
  entries.push(...servicesOf(w, clinics));
  return { entries, demoClinic: clinics[0] as (typeof clinics)[number], providers };
}

/** A clinic-level service in three of the cities (the marketplace lists services beside practitioners). */
function servicesOf(
  w: { entry(r: HealthcareService): DemoEntry },
  clinics: readonly { organization: DemoEntry; location: DemoEntry }[]
): DemoEntry[] {
  const services = [
    { name: 'Diabetes education group', specialty: DEMO_SPECIALTIES.endocrinology, fee: 0, accepting: true },
    { name: 'Heart health clinic', specialty: DEMO_SPECIALTIES.cardiology, fee: 90, accepting: true },
    { name: 'Skin check clinic', specialty: DEMO_SPECIALTIES.dermatology, fee: 120, accepting: false },
  ];
  return services.map((s, i) => {
    const clinic = clinics[i] as (typeof clinics)[number];
    return w.entry({
      resourceType: 'HealthcareService',
      meta: { profile: [LISTING_PROFILES.service] },
      active: true,
      name: s.name,
      providedBy: { reference: clinic.organization.fullUrl },
      specialty: [{ coding: [s.specialty] }],
      location: [{ reference: clinic.location.fullUrl }],
      communication: [{ coding: [{ system: BCP47, code: 'en' }] }, { coding: [{ system: BCP47, code: 'mi' }] }],
      extension: [flag(LISTING_EXTENSIONS.acceptingNewPatients, s.accepting), fee(s.fee, 'NZD')],
    } satisfies HealthcareService);
  });
}
