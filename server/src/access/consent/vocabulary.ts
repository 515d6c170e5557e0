/**
 * Hale's sharing vocabulary. The same URLs are published as CodeSystems/ValueSets and profiles in
 * fhir-profiles/; the access-decision module, the $share operations and the portal all use these.
 */
export const HALE_FHIR = 'https://hale.health/fhir';

/** Data-sharing categories (Consent.provision.class or .code). */
export const CATEGORY_SYSTEM = `${HALE_FHIR}/CodeSystem/data-category`;
export const CATEGORIES = [
  'medications',
  'labs',
  'vitals',
  'medical-history',
  'care-plans',
  'documents',
  'all',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Relationship types (CareTeam.category). */
export const RELATIONSHIP_SYSTEM = `${HALE_FHIR}/CodeSystem/relationship-type`;
export const RELATIONSHIP_TYPES = ['one-off', 'temporary', 'permanent'] as const;
export type RelationshipType = (typeof RELATIONSHIP_TYPES)[number];

/** CareTeam extension: the patient marked this relationship as a favorite. */
export const FAVORITE_EXTENSION = `${HALE_FHIR}/StructureDefinition/relationship-favorite`;

/** Observation categories Hale adds for wellness measurements (counted as "vitals"). */
export const WELLNESS_CATEGORY_SYSTEM = `${HALE_FHIR}/CodeSystem/wellness-category`;
export const WELLNESS_CATEGORIES = ['wellness', 'nutrition', 'sleep'] as const;

/** Task.code of a provider's request for access. */
export const TASK_CODE_SYSTEM = `${HALE_FHIR}/CodeSystem/task-code`;
export const DATA_SHARING_REQUEST = 'data-sharing-request';

/** Identifies a registered OAuth client (an app) as a Consent actor: Reference.identifier. */
export const CLIENT_ID_SYSTEM = `${HALE_FHIR}/sid/client-id`;

/** Profiles. */
export const CONSENT_PROFILE = `${HALE_FHIR}/StructureDefinition/hale-sharing-consent`;
export const RESEARCH_CONSENT_PROFILE = `${HALE_FHIR}/StructureDefinition/hale-research-consent`;
export const CARETEAM_PROFILE = `${HALE_FHIR}/StructureDefinition/hale-relationship`;

/** Standard systems the Consent rules read. */
export const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';
export const CONSENT_ACTION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentaction';
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const ROLE_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
export const OBSERVATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const RESOURCE_TYPES_SYSTEM = 'http://hl7.org/fhir/resource-types';
