import { HALE_FHIR } from '../access/consent/vocabulary';

/** The marketplace's profiles, extensions and codes (fhir-profiles/src/marketplace.ts publishes them; ADR 0010). */

const sd = (name: string): string => `${HALE_FHIR}/StructureDefinition/${name}`;

export const LISTING_PROFILES = {
  provider: sd('hale-provider-listing'),
  service: sd('hale-service-listing'),
  location: sd('hale-listing-location'),
} as const;

export const LISTING_EXTENSIONS = {
  acceptingNewPatients: sd('listing-accepting-new-patients'),
  telehealth: sd('listing-telehealth'),
  fee: sd('listing-fee'),
  language: sd('listing-language'),
  rating: sd('listing-rating'),
} as const;

/** Every StructureDefinition of the marketplace (a server test checks fhir-profiles publishes exactly these). */
export const MARKETPLACE_STRUCTURE_DEFINITIONS: readonly string[] = [
  ...Object.values(LISTING_PROFILES),
  ...Object.values(LISTING_EXTENSIONS),
];

/** The listing types: what a visit's feedback rates, and what carries the read-only rating. */
export const LISTING_TYPES = ['PractitionerRole', 'HealthcareService'] as const;
export type ListingType = (typeof LISTING_TYPES)[number];

/** Directory types a caller without a token may search and read (docs/marketplace.md). */
export const ANONYMOUS_TYPES: ReadonlySet<string> = new Set([
  'PractitionerRole',
  'HealthcareService',
  'Location',
  'Organization',
  'Practitioner',
]);

export const NUCC_TAXONOMY = 'http://nucc.org/provider-taxonomy';
export const SNOMED = 'http://snomed.info/sct';
export const BCP47 = 'urn:ietf:bcp:47';
export const ISO_4217 = 'urn:iso:std:iso:4217';

/** QuestionnaireResponse.identifier.system of visit feedback; the value is the visit (Appointment/<id>), one each. */
export const FEEDBACK_IDENTIFIER_SYSTEM = `${HALE_FHIR}/feedback-visit`;
/** The linkId of the 0-10 score (NPS "how likely are you to recommend …") in a feedback response. */
export const FEEDBACK_SCORE_LINK_ID = 'score';
