/**
 * @hale/seed: deterministic synthetic patients as FHIR R4 transaction Bundles, for tests and
 * benchmarks. See generatePatientBundle / generatePatientBundles.
 */
export {
  DEFAULT_REFERENCE_DATE,
  DEFAULT_RESOURCES_PER_PATIENT,
  generateDirectoryBundle,
  generatePatientBundle,
  generatePatientBundles,
  type DirectoryMode,
  type PatientBundleOptions,
  type PatientBundlesOptions,
} from './bundle';
export { SYSTEM } from './codes';
export { mrnOf } from './patient';
export { MINIMUM_RESOURCES } from './plan';
export { Rng } from './prng';
export {
  ORGANIZATIONS,
  PRACTITIONERS,
  npiCheckDigit,
  type OrganizationDefinition,
  type PractitionerDefinition,
} from './providers';
