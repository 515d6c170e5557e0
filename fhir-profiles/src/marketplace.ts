import type { SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import acceptingSearch from '../searchparameters/hale-accepting-new-patients.json';
import feeSearch from '../searchparameters/hale-fee.json';
import languageSearch from '../searchparameters/hale-language.json';
import nearSearch from '../searchparameters/hale-listing-near.json';
import latitudeSearch from '../searchparameters/hale-position-latitude.json';
import longitudeSearch from '../searchparameters/hale-position-longitude.json';
import ratingSearch from '../searchparameters/hale-rating.json';
import telehealthSearch from '../searchparameters/hale-telehealth.json';
import listingLocation from '../structuredefinitions/hale-listing-location.json';
import providerListing from '../structuredefinitions/hale-provider-listing.json';
import serviceListing from '../structuredefinitions/hale-service-listing.json';
import accepting from '../structuredefinitions/listing-accepting-new-patients.json';
import fee from '../structuredefinitions/listing-fee.json';
import language from '../structuredefinitions/listing-language.json';
import rating from '../structuredefinitions/listing-rating.json';
import telehealth from '../structuredefinitions/listing-telehealth.json';

/*
 * The provider marketplace (docs/marketplace.md, ADR 0010): listing profiles on PractitionerRole, HealthcareService
 * and Location, their extensions, and the SearchParameters core R4 lacks for what a marketplace filters and sorts
 * on. The server registers the SearchParameters with the indexer like the built-in ones
 * (server/src/fhir/definitions.ts); the URLs and codes the server reads are in server/src/marketplace/vocabulary.ts.
 */

export const marketplaceStructureDefinitions = [
  providerListing,
  serviceListing,
  listingLocation,
  accepting,
  telehealth,
  fee,
  language,
  rating,
] as StructureDefinition[];

export const marketplaceSearchParameters = [
  acceptingSearch,
  telehealthSearch,
  languageSearch,
  feeSearch,
  ratingSearch,
  latitudeSearch,
  longitudeSearch,
  nearSearch,
] as SearchParameter[];
